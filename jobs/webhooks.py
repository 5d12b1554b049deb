"""Handle TikTok webhook events recorded by the web endpoint (safe to run twice)."""

from __future__ import annotations

import json

from jobs import context
from webapp import publishing
from webapp.db import connected
from webapp.models import Account, PostTarget, WebhookEvent, utcnow
from webapp.tiktok.tokens import mark_reconnect_needed

REMOVED_REASON = "Access was removed in TikTok (the app was deauthorized). Reconnect to post again."


def handle_event(event_id: int) -> str:
    """Apply one webhook event and mark it handled; return what was done."""
    context.settings()
    with connected(), publishing.transaction():
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
        elif event.event.startswith("post.publish."):
            outcome = _post_event(event)
        event.handled_at = utcnow()
        event.save()
        return outcome


# post.publish.* events and the TikTok status each one reports.
POST_EVENTS = {
    "post.publish.complete": "PUBLISH_COMPLETE",
    "post.publish.publicly_available": "PUBLISH_COMPLETE",
    "post.publish.inbox_delivered": "SEND_TO_USER_INBOX",
    "post.publish.failed": "FAILED",
}


def _post_event(event: WebhookEvent) -> str:
    """Apply a post.publish.* event to its target, exactly as a status check would."""
    payload = event.payload or {}
    content = payload.get("content")
    try:
        content = json.loads(content) if isinstance(content, str) else (content or {})
    except ValueError:
        return "content is not JSON"
    publish_id = str(content.get("publish_id", ""))
    target = PostTarget.get_or_none(PostTarget.publish_id == publish_id) if publish_id else None
    if target is None:
        return "no post with this publish_id"
    if event.event == "post.publish.no_longer_publicaly_available":
        publishing.clear_public_url(target)
        return "no longer public"
    status = POST_EVENTS.get(event.event)
    if status is None:
        return "ignored"
    return publishing.apply_status(
        target.id,
        status,
        fail_reason=str(content.get("reason") or content.get("fail_reason") or ""),
        post_ids=content.get("post_id"),
        via="webhook",
    )
