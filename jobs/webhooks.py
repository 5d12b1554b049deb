"""Handle TikTok webhook events recorded by the web endpoint (safe to run twice)."""

from __future__ import annotations

from jobs import context
from webapp.db import connected, db
from webapp.models import Account, WebhookEvent, utcnow
from webapp.tiktok.accounts import mark_reconnect_needed

REMOVED_REASON = "Access was removed in TikTok (the app was deauthorized). Reconnect to post again."


def handle_event(event_id: int) -> str:
    """Apply one webhook event and mark it handled; return what was done."""
    context.settings()
    with connected(), db.atomic():
        event = WebhookEvent.get_or_none(WebhookEvent.id == event_id)
        if event is None:
            return "unknown event"
        if event.handled_at is not None:
            return "already handled"
        outcome = "ignored"
        if event.event == "authorization.removed":
            account = Account.get_or_none(
                (Account.provider == "tiktok") & (Account.open_id == event.user_openid)
            )
            if account is not None and account.status == "connected":
                mark_reconnect_needed(account, REMOVED_REASON)
                outcome = f"account {account.id} needs reconnecting"
            else:
                outcome = "no connected account"
        event.handled_at = utcnow()
        event.save()
        return outcome
