"""Keep connected accounts usable: one function hands out valid access tokens, refreshing
under a per-account Redis lock so a refresh token is never sent twice, even across machines.

Plain functions (no Flask), shared by views and jobs.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import redis as redis_lib
from redis.exceptions import LockError

from webapp.db import db
from webapp.models import Account, Notification, TikTokService, utcnow
from webapp.publishing import codes
from webapp.tiktok.client import POSTING_SCOPES, TikTokClient, TokenSet
from webapp.tiktok.errors import OAuthError, TikTokError

# Refresh when less than this is left, so a token never expires in the middle of an upload.
REFRESH_MARGIN = dt.timedelta(minutes=10)
LOCK_TIMEOUT = 60  # longer than one refresh request can take (connect 5 s + read 30 s)

SCOPE_EFFECTS = {
    "user.info.basic": "Cadence can't read the account's name and avatar.",
    "user.info.profile": "Cadence can't read the account's @username for post links.",
    "video.publish": "Cadence can't post directly to this account.",
    "video.upload": "Cadence can't send videos to this account's TikTok inbox as drafts.",
}


class ReconnectNeeded(Exception):
    """The account's authorization is gone; the user must connect it again."""


def client_for(service: TikTokService, settings: dict) -> TikTokClient:
    """Return a client for the configured TikTok app."""
    return TikTokClient(
        auth_base_url=service.effective_auth_base_url(settings),
        api_base_url=service.effective_api_base_url(settings),
        client_key=service.client_key,
        client_secret=service.client_secret(),
    )


def app_client() -> TikTokClient:
    """Return a TikTok client for the configured app, in the web app's context."""
    from flask import current_app

    return client_for(TikTokService.load(), current_app.config)


def missing_scopes(account: Account) -> list[str]:
    """Return the posting scopes the user did not grant, in a stable order."""
    return [s for s in POSTING_SCOPES if s not in account.scope_set]


def store_tokens(account: Account, tokens: TokenSet) -> None:
    """Save a new token pair and its expiry times in one transaction."""
    now = utcnow()
    with db.atomic():
        account.set_tokens(tokens.access_token, tokens.refresh_token)
        account.access_token_expires_at = now + dt.timedelta(seconds=tokens.expires_in)
        account.refresh_token_expires_at = (
            now + dt.timedelta(seconds=tokens.refresh_expires_in)
            if tokens.refresh_expires_in
            else None
        )
        account.scopes = tokens.scope or account.scopes
        account.save()


def notify(account: Account, kind: str, message: str) -> None:
    """Tell the managers of the account's workspace (they connect accounts), once while unread,
    with a link to its Accounts page."""
    from webapp.addresses import in_workspace
    from webapp.models import Workspace
    from webapp.workspaces.members import managers_of

    workspace = Workspace.get_by_id(account.workspace_id)
    link = in_workspace(workspace.slug, "/accounts/")
    for user_id in managers_of(workspace.id):
        exists = (
            Notification.select()
            .where(
                (Notification.user == user_id)
                & (Notification.kind == kind)
                & (Notification.message == message)
                & Notification.read_at.is_null()
            )
            .exists()
        )
        if not exists:
            Notification.create(
                user=user_id, workspace=workspace.id, kind=kind, message=message, link=link
            )


def mark_reconnect_needed(account: Account, reason: str) -> None:
    """Flag the account "Reconnect needed" with a reason, drop its tokens, and notify people."""
    with db.atomic():
        account.status = "reconnect_needed"
        account.status_reason = reason
        account.set_tokens(None, None)
        account.save()
        notify(account, "account_reconnect", f"{account.handle}: {reason}")


def _fresh(account: Account, margin: dt.timedelta) -> bool:
    expires = account.access_token_expires_at
    return bool(account.access_token_enc) and expires is not None and expires - utcnow() > margin


def refresh(
    account_id: int,
    *,
    client: TikTokClient,
    redis: redis_lib.Redis,
    force: bool = False,
    margin: dt.timedelta = REFRESH_MARGIN,
) -> str:
    """Refresh an account's tokens under its lock (skipped when another process just did) and
    return a valid access token."""
    lock = redis.lock(
        f"cadence:lock:refresh:{account_id}",
        timeout=LOCK_TIMEOUT,
        blocking_timeout=LOCK_TIMEOUT + 5,
    )
    if not lock.acquire():
        raise TikTokError("lock_timeout", "another process is still refreshing this account")
    try:
        # Read again inside the lock: whoever held it before us may have refreshed already.
        account = Account.get_by_id(account_id)
        if account.status != "connected":
            raise ReconnectNeeded(
                account.status_reason or "The account needs to be connected again."
            )
        if not force and _fresh(account, margin):
            return account.access_token()
        if not account.refresh_token_enc:
            mark_reconnect_needed(account, "Cadence has no refresh token for this account.")
            raise ReconnectNeeded(account.status_reason)
        try:
            tokens = client.refresh(account.refresh_token())
        except OAuthError as exc:
            if exc.code == "invalid_grant":
                mark_reconnect_needed(
                    account, "TikTok no longer accepts this account's authorization. Reconnect it."
                )
                raise ReconnectNeeded(account.status_reason) from None
            raise
        # The old refresh token is dead now: save the new pair before anything uses it.
        store_tokens(account, tokens)
        return tokens.access_token
    finally:
        with contextlib.suppress(LockError):  # it expired: nothing of ours to release
            lock.release()


def valid_access_token(
    account_id: int,
    *,
    client: TikTokClient,
    redis: redis_lib.Redis,
    margin: dt.timedelta = REFRESH_MARGIN,
) -> str:
    """Return an access token good for at least `margin`, refreshing on demand."""
    account = Account.get_by_id(account_id)
    if account.status != "connected":
        raise ReconnectNeeded(account.status_reason or "The account needs to be connected again.")
    if _fresh(account, margin):
        return account.access_token()
    return refresh(account_id, client=client, redis=redis, margin=margin)


class CheckOutcome:
    """The answer of an account check, in words for people."""

    def __init__(self, ok: bool, message: str):
        self.ok = ok
        self.message = message


def check_account(account_id: int, *, client: TikTokClient, redis: redis_lib.Redis) -> CheckOutcome:
    """Ask TikTok (creator_info) whether the account can post now; record what it said."""
    account = Account.get_by_id(account_id)
    name = account.handle
    try:
        token = valid_access_token(account_id, client=client, redis=redis)
        try:
            client.creator_info(token)
        except TikTokError as exc:
            if exc.code != "access_token_invalid":
                raise
            # TikTok forgot the token before its expiry: one forced refresh, then ask again.
            client.creator_info(refresh(account_id, client=client, redis=redis, force=True))
    except ReconnectNeeded as exc:
        return CheckOutcome(False, f"{name} needs to be reconnected: {exc}")
    except TikTokError as exc:
        account = Account.get_by_id(account_id)
        if exc.code in codes.CANT_POST_NOW:
            account.status_reason = codes.cant_post(exc.code)
            account.last_checked_at = utcnow()
            account.save()
            notify(account, "account_cant_post", f"{name}: {account.status_reason}")
            return CheckOutcome(False, f"{name}: {account.status_reason}")
        if exc.code == "access_token_invalid":
            mark_reconnect_needed(
                account, "TikTok no longer accepts this account's access. Reconnect it."
            )
            return CheckOutcome(False, f"{name} needs to be reconnected: {account.status_reason}")
        if exc.code == "scope_not_authorized":
            return CheckOutcome(
                False,
                f"{name} did not grant posting permission. Reconnect and keep every box ticked.",
            )
        return CheckOutcome(
            False,
            f"TikTok could not be asked about {name} right now ({exc.code}); try again later.",
        )
    account = Account.get_by_id(account_id)
    account.last_checked_at = utcnow()
    account.status_reason = ""
    account.save()
    return CheckOutcome(True, f"{name} can post.")
