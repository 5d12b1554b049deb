"""Email for notifications, only when SMTP is configured (SMTP_URL); failures are logged, never
raised: a mail server being down must not stop a publish or a page.

SMTP_URL forms: smtp://user:password@host:587 (STARTTLS when the server offers it),
smtps://user:password@host:465 (TLS from the start), smtp://host:25 (no login).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)
_config: dict = {"url": "", "sender": ""}


def configure(settings: dict) -> None:
    """Remember SMTP_URL and MAIL_FROM from the loaded settings."""
    _config["url"] = str(settings.get("SMTP_URL") or "")
    _config["sender"] = str(settings.get("MAIL_FROM") or "")


def enabled() -> bool:
    """Tell whether email is configured."""
    return bool(_config["url"])


def send(recipients: list[str], subject: str, body: str) -> bool:
    """Send one plain-text message; return whether the server took it."""
    if not enabled() or not recipients:
        return False
    url = urlparse(_config["url"])
    sender = _config["sender"] or f"cadence@{url.hostname or 'localhost'}"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(recipients), subject
    message.set_content(body)
    try:
        if url.scheme == "smtps":
            server = smtplib.SMTP_SSL(
                url.hostname, url.port or 465, timeout=10, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(url.hostname, url.port or 25, timeout=10)
        with server:
            if url.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls(context=ssl.create_default_context())
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(message)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        # The message is dropped (the in-app notification remains); the reason goes to the log.
        log.warning("email to %d recipient(s) not sent: %s", len(recipients), type(exc).__name__)
        return False
