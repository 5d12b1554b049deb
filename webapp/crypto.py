"""Encryption at rest for secrets (client secret, access and refresh tokens).

Keys are derived from SECRET_KEY with HKDF, so one secret in the environment covers both
sessions and stored secrets. During a rotation the old SECRET_KEY values stay readable
through OLD_SECRET_KEYS until `flask secrets rotate` has re-encrypted every row.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"cadence secrets at rest v1"


class SecretUnreadable(RuntimeError):
    """Raised when a stored secret was encrypted with a key we no longer have."""


def derive_key(secret_key: str) -> bytes:
    """Derive a Fernet key from an application secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cadence", info=_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8")))


class Keyring:
    """Encrypt with the newest key, decrypt with any configured one."""

    def __init__(self, secret_key: str, old_secret_keys: list[str] | None = None):
        keys = [secret_key, *(old_secret_keys or [])]
        self._fernet = MultiFernet([Fernet(derive_key(k)) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        """Return the ciphertext of plaintext under the newest key."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Return the plaintext of a stored ciphertext."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretUnreadable(
                "a stored secret cannot be decrypted: SECRET_KEY changed without listing the "
                "previous key in OLD_SECRET_KEYS"
            ) from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt a ciphertext under the newest key."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretUnreadable(
                "a stored secret cannot be decrypted with SECRET_KEY or OLD_SECRET_KEYS"
            ) from exc


_keyring: Keyring | None = None


def configure(secret_key: str, old_secret_keys: list[str] | None = None) -> Keyring:
    """Install the process-wide keyring used by encrypted model fields."""
    global _keyring
    _keyring = Keyring(secret_key, old_secret_keys)
    return _keyring


def keyring() -> Keyring:
    """Return the configured keyring."""
    if _keyring is None:
        raise RuntimeError("crypto.configure() has not been called")
    return _keyring
