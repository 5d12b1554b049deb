"""People who sign in to Cadence."""

from __future__ import annotations

import functools
import secrets

import peewee as pw
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models.base import TimestampedModel

ROLES = ("admin", "member")
MIN_PASSWORD_LENGTH = 10
# werkzeug's method for new password hashes; create_app sets it from the config
# (webapp.config.password_hash_method: scrypt except in the test suite).
_hash_method = "scrypt"


def use_password_hash_method(method: str) -> None:
    """Hash new passwords with method from now on (werkzeug's name, e.g. "scrypt")."""
    global _hash_method  # noqa: PLW0603 - one setting per process, set when the app is built
    _hash_method = method


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a real password", method=method)


def spend_a_password_check(password: str) -> None:
    """Check password against a dummy hash, taking as long as checking a real user's would."""
    check_password_hash(_dummy_hash(_hash_method), password)


def new_session_token() -> str:
    """Return a fresh random session token."""
    return secrets.token_urlsafe(32)


class User(TimestampedModel):
    """A person with a login; admins also reach the Admin Console."""

    email = pw.CharField(max_length=254, unique=True)
    name = pw.CharField(max_length=120, default="")
    password_hash = pw.CharField(max_length=255)
    role = pw.CharField(max_length=16, default="member")
    active = pw.BooleanField(default=True)
    timezone = pw.CharField(max_length=64, null=True)
    last_login_at = pw.DateTimeField(null=True)
    # What session and remember-me cookies carry instead of the id: changing it ends them all.
    session_token = pw.CharField(max_length=64, unique=True, default=new_session_token)

    # flask-login's protocol, written out so models import without Flask.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Tell flask-login whether this user may sign in."""
        return bool(self.active)

    def get_id(self) -> str:
        """Return what flask-login keeps in the session and remember-me cookies."""
        return self.session_token

    def rotate_session_token(self) -> None:
        """End every session and remember-me cookie of this user, on every device."""
        self.session_token = new_session_token()
        self.save()

    @property
    def is_admin(self) -> bool:
        """Tell whether this user has the admin role."""
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        """Return the name to show, falling back to the email."""
        return self.name or self.email

    def set_password(self, password: str) -> None:
        """Store a salted hash of password; sessions signed in with the old one end on save."""
        self.password_hash = generate_password_hash(password, method=_hash_method)
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        """Tell whether password matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @classmethod
    def by_email(cls, email: str) -> User | None:
        """Return the user with this email (case-insensitive), or None."""
        return cls.get_or_none(cls.email == normalize_email(email))

    @classmethod
    def active_admins(cls) -> pw.ModelSelect:
        """Return a query of admins who can still sign in."""
        return cls.select().where((cls.role == "admin") & (cls.active == True))  # noqa: E712


def normalize_email(email: str) -> str:
    """Return the canonical form of an email address for lookups."""
    return (email or "").strip().lower()
