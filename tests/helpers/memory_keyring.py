"""An in-memory keyring backend: no test ever touches the real OS keyring."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Stores passwords in a dict keyed by (service, username)."""

    @properties.classproperty
    def priority(cls) -> float:
        # Low, so that keyring's own detection never prefers it; tests install it explicitly.
        return 0.1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.passwords:
            raise PasswordDeleteError(f"no password for {username!r} in {service!r}")
        del self.passwords[(service, username)]
