"""Input checks shared by forms and the CLI (plain functions, no Flask)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def email_problem(value: str) -> str | None:
    """Return why value is not a usable email address, or None."""
    if not value:
        return "Enter an email address."
    if len(value) > 254 or not _EMAIL.match(value):
        return "Enter an email address like name@example.com."
    return None


def url_problem(
    value: str, *, https_only: bool = False, allow_local_http: bool = True
) -> str | None:
    """Return why value is not an acceptable http(s) URL, or None."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "Enter a full address starting with https://."
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "Enter a full address starting with https://."
    if len(value) > 500:
        return "This address is too long (500 characters at most)."
    if "\\" in value or "@" in parts.netloc or any(c.isspace() or ord(c) < 32 for c in value):
        # Browsers, Python and urllib3 disagree about where the host of such an address ends.
        return "Write the address without spaces, a backslash (\\) or a user name (…@)."
    local = allow_local_http and parts.hostname in LOCAL_HOSTS
    if https_only and parts.scheme != "https" and not local:
        return "This address must start with https://."
    return None


def password_problem(value: str, minimum: int) -> str | None:
    """Return why value is not an acceptable password, or None."""
    if len(value or "") < minimum:
        return f"Use at least {minimum} characters."
    if len(value) > 1024:
        return "Use at most 1024 characters."
    return None
