"""Email for notifications, only when SMTP is configured (SMTP_URL); failures are logged, never
raised: a mail server being down must not stop a publish or a page.

SMTP_URL forms: smtp://user:password@host:587 (STARTTLS, required because of the password),
smtps://user:password@host:465 (TLS from the start), smtp://host:25 (no login; STARTTLS when the
server offers it). The server's certificate is always verified, against the system's CAs or, for
a private CA, against SMTP_CA_FILE. A password is never sent over an unencrypted connection.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)
_config: dict = {"url": "", "sender": "", "ca_file": ""}


class InsecureServer(smtplib.SMTPException):
    """The server offers no STARTTLS, so the password would have gone out in clear."""


def configure(settings: dict) -> None:
    """Remember SMTP_URL, MAIL_FROM and SMTP_CA_FILE from the loaded settings."""
    _config["url"] = str(settings.get("SMTP_URL") or "")
    _config["sender"] = str(settings.get("MAIL_FROM") or "")
    _config["ca_file"] = str(settings.get("SMTP_CA_FILE") or "")


def _tls_context() -> ssl.SSLContext:
    # Verifies the certificate and its host name; a private CA replaces the system's list.
    return ssl.create_default_context(cafile=_config["ca_file"] or None)


def _reason(exc: Exception) -> str:
    """Say why a message wasn't sent, without anything from SMTP_URL but the host."""
    if isinstance(exc, InsecureServer):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the server's certificate could not be verified ({exc.verify_message}); "
            "for a private CA set SMTP_CA_FILE"
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the user name or password (SMTP {exc.smtp_code})"
    return type(exc).__name__


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
        context = _tls_context()
        if url.scheme == "smtps":
            server = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=10, context=context)
        else:
            server = smtplib.SMTP(url.hostname, url.port or 25, timeout=10)
        with server:
            # The extensions (STARTTLS among them) are known only after EHLO.
            server.ehlo()
            if url.scheme != "smtps":
                if server.has_extn("starttls"):
                    server.starttls(context=context)
                    server.ehlo()  # the pre-TLS answer no longer counts
                elif url.username:
                    raise InsecureServer(
                        f"{url.hostname} offers no STARTTLS, and Cadence won't send the SMTP "
                        "password unencrypted; use an smtps:// URL or a server with STARTTLS"
                    )
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(message)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        # The message is dropped (the in-app notification remains); the reason goes to the log.
        log.warning("email to %d recipient(s) not sent: %s", len(recipients), _reason(exc))
        return False
