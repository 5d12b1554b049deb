"""Connecting and reconnecting a TikTok account, the part with rules: the OAuth `state`
(random, single-use: deleted from Redis when read, expires after ten minutes, bound to the
signed-in user and to the browser session), exchanging TikTok's code, saving the account, and
the result the first tab waits for. The routes in views.py parse the request, call these and
render."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from webapp.addresses import redirect_uri
from webapp.db import db
from webapp.extensions import get_redis
from webapp.models import Account, User, Workspace, utcnow
from webapp.tiktok import OAuthError, TikTokError
from webapp.tiktok.client import POSTING_SCOPES
from webapp.tiktok.tokens import SCOPE_EFFECTS, app_client, missing_scopes, store_tokens

STATE_TTL = 600
USER_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")


def _state_key(state: str) -> str:
    return f"cadence:oauth:state:{state}"


def _result_key(user_id: int) -> str:
    return f"cadence:oauth:result:{user_id}"


def session_nonce(session) -> str:
    """Return this browser session's nonce (made on first use); the state is bound to it."""
    if "oauth_nonce" not in session:
        session["oauth_nonce"] = secrets.token_urlsafe(16)
    return session["oauth_nonce"]


def authorize_url(user: User, workspace: Workspace, nonce: str, reconnect: int | None) -> str:
    """Remember a fresh state for this user, workspace and session; return TikTok's
    authorization URL."""
    state = secrets.token_urlsafe(32)
    record = {
        "user_id": user.id,
        "workspace_id": workspace.id,
        "nonce": nonce,
        "reconnect": reconnect,
    }
    get_redis().set(_state_key(state), json.dumps(record), ex=STATE_TTL)
    return app_client().authorize_url(
        redirect_uri=redirect_uri(), state=state, scopes=POSTING_SCOPES
    )


@dataclass
class Outcome:
    """How a connection ended, as the callback tab shows it and the first tab learns it."""

    ok: bool
    message: str
    status: int = 200
    account: Account | None = None


def _told(user: User, outcome: Outcome) -> Outcome:
    """Record the outcome for the first tab (it polls result_since), and return it."""
    get_redis().set(
        _result_key(user.id),
        json.dumps({"at": time.time(), "ok": outcome.ok, "message": outcome.message}),
        ex=STATE_TTL,
    )
    return outcome


def result_since(user: User, since: float) -> dict | None:
    """Return the user's latest connection outcome if it came after since, else None."""
    raw = get_redis().get(_result_key(user.id))
    result = json.loads(raw) if raw else None
    return result if result is not None and result["at"] > since else None


def finish(user: User, nonce: str | None, args) -> Outcome:
    """Finish OAuth from TikTok's callback arguments: check the state, exchange the code, read
    the profile, save the account (nothing is saved unless every step succeeds); record the
    outcome for the first tab."""
    return _told(user, _outcome(user, nonce, args))


def _outcome(user: User, nonce: str | None, args) -> Outcome:
    state = args.get("state", "")
    raw = get_redis().getdel(_state_key(state)) if state else None
    record = json.loads(raw) if raw else None
    if record is None or record["user_id"] != user.id or record["nonce"] != nonce:
        return Outcome(
            False,
            "This sign-in link has expired, was already used, or was started in "
            "another browser. Nothing was saved. Start again from Accounts → Add Account.",
            400,
        )
    if args.get("error"):
        if args["error"] == "access_denied":
            return Outcome(False, "You cancelled in TikTok, so no account was connected.")
        return Outcome(
            False, f"TikTok refused the connection ({args['error']}). Nothing was saved."
        )
    code = args.get("code", "")
    if not code:
        return Outcome(
            False,
            "TikTok sent no authorization code. Nothing was saved; please try again.",
            400,
        )
    client = app_client()
    try:
        tokens = client.exchange_code(code=code, redirect_uri=redirect_uri())
        granted = set(tokens.scope.split(",")) | set(
            filter(None, args.get("scopes", "").split(","))
        )
        fields = USER_FIELDS + (("username",) if "user.info.profile" in granted else ())
        profile = client.user_info(tokens.access_token, fields)
    except OAuthError as exc:
        if exc.code == "invalid_grant":
            return Outcome(
                False,
                "TikTok says this sign-in was already used or has expired. "
                "Nothing was saved; start again from Accounts → Add Account.",
                400,
            )
        return Outcome(False, f"TikTok refused the sign-in ({exc.code}). Nothing was saved.", 400)
    except TikTokError:
        return Outcome(
            False,
            "TikTok could not be reached to finish the connection. "
            "Nothing was saved; please try again in a moment.",
            502,
        )
    return _save(user, record, tokens, profile)


def _save(user: User, record: dict, tokens, profile: dict) -> Outcome:
    from webapp.workspaces.members import role_of
    from webapp.workspaces.roles import Can, allows

    reconnect_id = record.get("reconnect")
    workspace = Workspace.get_or_none(Workspace.id == record.get("workspace_id"))
    if workspace is None or not allows(role_of(user, workspace), Can.CONNECT):
        return Outcome(
            False,
            "You can no longer connect accounts in that workspace (it was deleted, or your "
            "role changed). Nothing was saved.",
            403,
        )
    existing = Account.get_or_none(
        (Account.provider == "tiktok") & (Account.open_id == tokens.open_id)
    )
    if reconnect_id is not None:
        target = Account.get_or_none(
            (Account.id == reconnect_id) & (Account.workspace == workspace.id)
        )
        if target is None or target.open_id != tokens.open_id:
            shown = profile.get("username") or profile.get("display_name") or "another account"
            expected = target.username or target.display_name if target else "this account"
            return Outcome(
                False,
                f"You signed in to TikTok as {shown}, but Reconnect was for "
                f"@{expected}. Nothing changed. To add {shown} as a new account, "
                "use Add Account; to reconnect, sign in to TikTok as the right account.",
                400,
            )
    moving = existing is not None and existing.workspace_id != workspace.id
    if moving and existing.status != "disconnected":
        return Outcome(
            False,
            "This TikTok account is already connected in another workspace. "
            "Ask a manager of that workspace or an admin to disconnect it first.",
            409,
        )
    with db.atomic():
        account = existing or Account(
            workspace=workspace.id, owner=user.id, provider="tiktok", open_id=tokens.open_id
        )
        if moving:  # disconnected elsewhere: it joins this workspace; its old posts stay there
            account.workspace = workspace.id
            account.owner = user.id
        account.union_id = profile.get("union_id", account.union_id or "")
        account.display_name = profile.get("display_name", account.display_name or "")
        account.avatar_url = profile.get("avatar_url", account.avatar_url or "")
        account.username = profile.get("username", account.username or "")
        account.status = "connected"
        account.status_reason = ""
        account.last_checked_at = utcnow()
        account.scopes = tokens.scope
        store_tokens(account, tokens)
    missing = missing_scopes(account)
    if missing:
        effects = " ".join(SCOPE_EFFECTS[s] for s in missing)
        return Outcome(
            True,
            f"{account.handle} is connected, but some permissions were not granted: {effects} "
            "Use Reconnect and keep every box ticked to fix this.",
            account=account,
        )
    verb = "reconnected" if reconnect_id is not None or existing is not None else "connected"
    return Outcome(True, f"{account.handle} is {verb}.", account=account)
