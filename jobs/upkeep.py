"""Periodic account care: refresh tokens before they expire; check accounts ahead of posts."""

from __future__ import annotations

import datetime as dt

from redis import Redis

from jobs import context
from webapp.db import connected
from webapp.models import Account, Post, PostTarget, TikTokService, utcnow
from webapp.tiktok import TikTokError
from webapp.tiktok.tokens import ReconnectNeeded, check_account, client_for, refresh

REFRESH_AHEAD = dt.timedelta(minutes=30)
CHECK_AHEAD = dt.timedelta(minutes=15)
RECHECK_AFTER = dt.timedelta(minutes=10)


def _tools():
    settings = context.settings()
    return client_for(TikTokService.load(), settings), Redis.from_url(settings["REDIS_URL"])


def refresh_expiring() -> dict:
    """Refresh every connected account whose access token expires within 30 minutes."""
    context.settings()
    done = {"refreshed": 0, "reconnect_needed": 0, "errors": 0}
    with connected():
        client, redis = _tools()
        due = Account.select(Account.id).where(
            (Account.status == "connected")
            & (Account.access_token_expires_at < utcnow() + REFRESH_AHEAD)
        )
        for row in due:
            try:
                refresh(row.id, client=client, redis=redis, margin=REFRESH_AHEAD)
                done["refreshed"] += 1
            except ReconnectNeeded:
                done["reconnect_needed"] += 1
            except TikTokError:
                done["errors"] += 1  # tried again on the next run
    return done


def check_upcoming() -> dict:
    """Check, 15 minutes ahead, that accounts with scheduled posts can still post."""
    context.settings()
    results = {}
    with connected():
        client, redis = _tools()
        now = utcnow()
        accounts = (
            Account.select(Account.id)
            .join(PostTarget)
            .join(Post)
            .where(
                (Post.status == "scheduled")
                & (PostTarget.status == "scheduled")
                & (Post.scheduled_at <= now + CHECK_AHEAD)
                & (Post.scheduled_at > now)
                & (Account.status == "connected")
                & (
                    Account.last_checked_at.is_null()
                    | (Account.last_checked_at < now - RECHECK_AFTER)
                )
            )
            .distinct()
        )
        for row in accounts:
            # JSON object keys are text; say so here rather than let the result change in Redis.
            results[str(row.id)] = check_account(row.id, client=client, redis=redis).message
    return results
