"""Email a notification, off the transaction that created it."""

from __future__ import annotations

from jobs import context
from webapp import mail
from webapp.db import connected
from webapp.models import Notification


def email_notification(notification_id: int) -> str:
    """Email one in-app notification to its user (SMTP configured); return what happened."""
    settings = context.settings()
    with connected():
        note = Notification.get_or_none(Notification.id == notification_id)
        if note is None:
            return "no such notification"
        user = note.user
        if not mail.enabled() or not user.is_active:
            return "not sent"
        address, message, link = user.email, note.message, note.link
    # A link in an email must be whole: PUBLIC_URL (the address people reach Cadence at) first.
    base = (settings.get("PUBLIC_URL") or "").rstrip("/")
    if base and link.startswith("/"):
        link = base + link
    body = f"{message}\n\nOpen it in Cadence: {link}\n" if link else f"{message}\n"
    sent = mail.send([address], "Cadence: " + message[:80], body)
    return "sent" if sent else "not sent"


def email_invitation(invitation_id: int, link: str) -> str:
    """Email an invitation's link to the invited address (SMTP configured); return what
    happened. The link's secret travels only in this job's arguments (never stored in the
    database); the job sends nothing once the invitation was used, withdrawn or replaced."""
    from webapp.models import AppSettings, Invitation
    from webapp.workspaces import invitations

    context.settings()
    with connected():
        invitation = Invitation.get_or_none(Invitation.id == invitation_id)
        if invitation is None:
            return "no such invitation"
        token = link.rstrip("/").rsplit("/", 1)[-1]
        try:
            opened = invitations.look_up(token)
        except invitations.InvitationError:
            return "no longer open"
        if opened.id != invitation.id or not mail.enabled():
            return "not sent"
        subject, body = invitations.email_text(opened, link, AppSettings.load().app_name)
        address = opened.email
    return "sent" if mail.send([address], subject, body) else "not sent"
