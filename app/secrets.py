"""Secrets live only in the OS keyring (ARCHITECTURE.md, invariant 6).

Never in the settings file, the environment, logs, the database or a sync payload. Everything
that needs no secret (the simulated setup) works without a usable keyring; only the operations
below raise `SecretsUnavailableError`, with a reason a user can act on.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

# keyring (and the backends it probes) is imported on first use, not with this module: the settings
# import this module for SECRET_NAMES, and the window's first paint should not wait ~70 ms for it.

SERVICE_NAME = "tiller"

SECRET_NAMES: frozenset[str] = frozenset(
    {
        "bigquant.access_key",
        "bigquant.secret_key",
        "qmt.account_id",
        "webhook.wecom",
        "webhook.dingtalk",
        "webhook.feishu",
        "smtp.password",
    }
)

SET_MARKER = "***set***"
UNSET_MARKER = "unset"
UNAVAILABLE_MARKER = "unavailable"


class SecretsError(ValueError):
    """A secret could not be read, stored or deleted."""


class UnknownSecretNameError(SecretsError):
    """A name that is not one of `SECRET_NAMES` (catches typos before they reach the keyring)."""


class SecretsUnavailableError(SecretsError):
    """No usable OS keyring: the message says why and what to do."""


def check_secret_name(name: str) -> str:
    """Return `name` if it is a known secret name, else raise `UnknownSecretNameError`."""
    if name not in SECRET_NAMES:
        known = ", ".join(sorted(SECRET_NAMES))
        raise UnknownSecretNameError(f"unknown secret name, was {name!r}; known names: {known}")
    return name


def _no_backend_reason(platform: str) -> str:
    """Plain words for 'keyring found no backend' on this platform."""
    if platform.startswith("linux"):
        hint = (
            "Linux without a desktop session: no Secret Service; install and unlock gnome-keyring "
            "or KWallet, or use keyrings.alt at your own risk"
        )
        return f"{hint}{_secret_service_detail()}"
    if platform == "win32":
        return "Windows Credential Manager is not reachable from keyring (is pywin32-ctypes installed?)"
    if platform == "darwin":
        return "the macOS Keychain is not reachable from keyring"
    return f"keyring has no backend for this platform ({platform})"


def _secret_service_detail() -> str:
    # keyring's SecretService backend says why it is not viable when its priority is read.
    try:
        from keyring.backends import SecretService

        SecretService.Keyring.priority  # noqa: B018 - reading it raises the reason
    except Exception as exc:
        return f" ({exc})"
    return ""


def keyring_status(backend: KeyringBackend | None = None, platform: str | None = None) -> tuple[bool, str]:
    """(usable, description): the backend's name when usable, else the plain reason why not.

    Checks `backend`, or keyring's current one when None.
    """
    import keyring
    from keyring.backends import chainer, fail, null

    platform = sys.platform if platform is None else platform
    if backend is None:
        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # a broken keyringrc.cfg or PYTHON_KEYRING_BACKEND
            return False, f"keyring could not choose a backend: {exc}"
    if isinstance(backend, fail.Keyring):
        return False, _no_backend_reason(platform)
    if isinstance(backend, null.Keyring):
        return False, (
            "the keyring is disabled (keyring.backends.null chosen by PYTHON_KEYRING_BACKEND or "
            "keyringrc.cfg); choose a real backend to store secrets"
        )
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return False, _no_backend_reason(platform)
    return True, backend.name


def _keyring_errors():  # type: ignore[no-untyped-def]
    import keyring.errors

    return keyring.errors


class SecretStore:
    """Get, set and delete the known secrets in the OS keyring, under service "tiller".

    Uses `keyring.get_keyring()` at each call unless a backend is given, so a backend set later
    (tests, a user choosing one) takes effect. Holds no values itself.
    """

    __slots__ = ("_backend", "_service")

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE_NAME) -> None:
        self._backend = backend
        self._service = service

    def __repr__(self) -> str:
        return f"SecretStore(service={self._service!r}, backend={self.backend_name()!r})"

    def backend_name(self) -> str:
        try:
            return self._keyring().name
        except Exception:
            return "unknown"

    def _keyring(self) -> KeyringBackend:
        if self._backend is not None:
            return self._backend
        import keyring

        try:
            return keyring.get_keyring()
        except Exception as exc:  # a broken keyringrc.cfg or PYTHON_KEYRING_BACKEND
            raise SecretsUnavailableError(f"keyring could not choose a backend: {exc}") from exc

    def _usable_keyring(self) -> KeyringBackend:
        backend = self._keyring()
        usable, reason = keyring_status(backend)
        if not usable:
            raise SecretsUnavailableError(f"系统密钥环不可用 / no usable OS keyring: {reason}")
        return backend

    def get(self, name: str) -> str | None:
        """The stored value, or None when it is not set."""
        check_secret_name(name)
        backend = self._usable_keyring()
        errors = _keyring_errors()
        try:
            return backend.get_password(self._service, name)
        except errors.KeyringError as exc:
            raise SecretsUnavailableError(f"could not read {name} from the keyring: {exc}") from exc

    def set(self, name: str, value: str) -> None:
        """Store `value` (surrounding whitespace, e.g. from pasting, is dropped)."""
        check_secret_name(name)
        if not isinstance(value, str) or not value.strip():
            # The value itself is never echoed, even when wrong.
            raise SecretsError(f"{name}: expected a non-empty value, was empty")
        backend = self._usable_keyring()
        errors = _keyring_errors()
        try:
            backend.set_password(self._service, name, value.strip())
        except errors.KeyringError as exc:
            raise SecretsUnavailableError(f"could not store {name} in the keyring: {exc}") from exc

    def delete(self, name: str) -> bool:
        """Remove the secret; False when it was not set."""
        check_secret_name(name)
        if self.get(name) is None:
            return False
        backend = self._usable_keyring()
        errors = _keyring_errors()
        try:
            backend.delete_password(self._service, name)
        except errors.PasswordDeleteError:
            return False
        except errors.KeyringError as exc:
            raise SecretsUnavailableError(f"could not delete {name} from the keyring: {exc}") from exc
        return True

    def is_set(self, name: str) -> bool:
        return self.get(name) is not None

    def status_markers(self) -> dict[str, str]:
        """{name: "***set***" | "unset"} for every known name, or "unavailable" for all without a keyring.

        Safe to log: holds no values.
        """
        try:
            return {name: SET_MARKER if self.is_set(name) else UNSET_MARKER for name in sorted(SECRET_NAMES)}
        except SecretsUnavailableError:
            return dict.fromkeys(sorted(SECRET_NAMES), UNAVAILABLE_MARKER)
