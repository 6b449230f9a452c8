"""Domain errors.

Every rule violation is a ValueError so callers that only know the standard library still catch
it; messages say what is wrong and show the offending value ("..., was X").
"""


class DomainError(Exception):
    """Base of every error raised by `app.domain`."""


class RuleViolation(DomainError, ValueError):
    """An input breaks an exchange or house rule."""


class UnknownInstrumentError(RuleViolation):
    """A security code that is not a supported A-share stock or listed fund."""


class QuantityError(RuleViolation):
    """An order quantity that the exchange would refuse (lot, minimum, maximum, holding)."""


class PriceError(RuleViolation):
    """A price that is not positive, not on the tick, or outside the limits or the price cage."""
