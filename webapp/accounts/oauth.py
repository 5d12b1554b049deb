"""Connecting and reconnecting: start OAuth in a new tab, handle TikTok's callback, and let the
first tab notice the result.

The `state` sent to TikTok is random, single-use (deleted from Redis when read), expires after
ten minutes, and is bound to the signed-in user and to this browser session.
"""

from __future__ import annotations

import json
import secrets
import time

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp import htmx
from webapp.accounts import bp
from webapp.accounts.common import own_account
from webapp.addresses import redirect_uri
from webapp.db import db
from webapp.extensions import get_redis
from webapp.models import Account, TikTokService, utcnow
from webapp.tiktok import OAuthError, TikTokError
from webapp.tiktok.accounts import SCOPE_EFFECTS, app_client, missing_scopes, store_tokens
from webapp.tiktok.client import POSTING_SCOPES

STATE_TTL = 600
USER_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")


def _state_key(state: str) -> str:
    return f"cadence:oauth:state:{state}"


def _result_key(user_id: int) -> str:
    return f"cadence:oauth:result:{user_id}"


def _session_nonce() -> str:
    if "oauth_nonce" not in session:
        session["oauth_nonce"] = secrets.token_urlsafe(16)
    return session["oauth_nonce"]


@bp.route("/add")
def add():
    """Show the providers one can connect (a dialog over htmx, a page otherwise)."""
    service = TikTokService.load()
    template = "accounts/_add_dialog.html" if htmx.wants_partial() else "accounts/add.html"
    reconnect = request.args.get("reconnect", type=int)
    if reconnect is not None:
        own_account(reconnect)
    return render_template(template, service=service, since=time.time(), reconnect=reconnect)


@bp.route("/connect/tiktok")
def connect():
    """Send the browser to TikTok's authorization page (opened in a new tab)."""
    service = TikTokService.load()
    if not service.is_configured:
        flash(
            "TikTok isn't set up yet: an admin must enter the client key and secret "
            "in Admin Console → Services.",
            "error",
        )
        return redirect(url_for("accounts.index"))
    reconnect = request.args.get("reconnect", type=int)
    if reconnect is not None:
        own_account(reconnect)
    state = secrets.token_urlsafe(32)
    record = {"user_id": current_user.id, "nonce": _session_nonce(), "reconnect": reconnect}
    get_redis().set(_state_key(state), json.dumps(record), ex=STATE_TTL)
    url = app_client().authorize_url(
        redirect_uri=redirect_uri(), state=state, scopes=POSTING_SCOPES
    )
    return redirect(url)


def _finish(ok: bool, message: str, status: int = 200, account: Account | None = None):
    """Record the outcome for the first tab, then show it in this one."""
    get_redis().set(
        _result_key(current_user.id),
        json.dumps({"at": time.time(), "ok": ok, "message": message}),
        ex=STATE_TTL,
    )
    return render_template(
        "accounts/callback.html", ok=ok, message=message, account=account
    ), status


@bp.route("/callback")
def callback():
    """Finish OAuth: check state, exchange the code, read the profile, save the account."""
    state = request.args.get("state", "")
    raw = get_redis().getdel(_state_key(state)) if state else None
    record = json.loads(raw) if raw else None
    if (
        record is None
        or record["user_id"] != current_user.id
        or record["nonce"] != session.get("oauth_nonce")
    ):
        return _finish(
            False,
            "This sign-in link has expired, was already used, or was started in "
            "another browser. Nothing was saved. Start again from Accounts → Add Account.",
            400,
        )
    if request.args.get("error"):
        if request.args["error"] == "access_denied":
            return _finish(False, "You cancelled in TikTok, so no account was connected.")
        return _finish(
            False, f"TikTok refused the connection ({request.args['error']}). Nothing was saved."
        )
    code = request.args.get("code", "")
    if not code:
        return _finish(
            False, "TikTok sent no authorization code. Nothing was saved; please try again.", 400
        )
    client = app_client()
    try:
        tokens = client.exchange_code(code=code, redirect_uri=redirect_uri())
        granted = set(tokens.scope.split(",")) | set(
            filter(None, request.args.get("scopes", "").split(","))
        )
        fields = USER_FIELDS + (("username",) if "user.info.profile" in granted else ())
        profile = client.user_info(tokens.access_token, fields)
    except OAuthError as exc:
        if exc.code == "invalid_grant":
            return _finish(
                False,
                "TikTok says this sign-in was already used or has expired. "
                "Nothing was saved; start again from Accounts → Add Account.",
                400,
            )
        return _finish(False, f"TikTok refused the sign-in ({exc.code}). Nothing was saved.", 400)
    except TikTokError:
        return _finish(
            False,
            "TikTok could not be reached to finish the connection. "
            "Nothing was saved; please try again in a moment.",
            502,
        )
    return _save(record, tokens, profile)


def _save(record: dict, tokens, profile: dict):
    reconnect_id = record.get("reconnect")
    existing = Account.get_or_none(
        (Account.provider == "tiktok") & (Account.open_id == tokens.open_id)
    )
    if reconnect_id is not None:
        target = Account.get_or_none(
            (Account.id == reconnect_id) & (Account.owner == current_user.id)
        )
        if target is None or target.open_id != tokens.open_id:
            shown = profile.get("username") or profile.get("display_name") or "another account"
            expected = target.username or target.display_name if target else "this account"
            return _finish(
                False,
                f"You signed in to TikTok as {shown}, but Reconnect was for "
                f"@{expected}. Nothing changed. To add {shown} as a new account, "
                "use Add Account; to reconnect, sign in to TikTok as the right account.",
                400,
            )
    if existing is not None and existing.owner_id != current_user.id:
        return _finish(
            False,
            "This TikTok account is already connected in Cadence by another user. "
            "Ask them or an admin to disconnect it first.",
            409,
        )
    with db.atomic():
        account = existing or Account(
            owner=current_user.id, provider="tiktok", open_id=tokens.open_id
        )
        account.union_id = profile.get("union_id", account.union_id or "")
        account.display_name = profile.get("display_name", account.display_name or "")
        account.avatar_url = profile.get("avatar_url", account.avatar_url or "")
        account.username = profile.get("username", account.username or "")
        account.status = "connected"
        account.status_reason = ""
        account.last_checked_at = utcnow()
        account.scopes = tokens.scope
        store_tokens(account, tokens)
    name = account.handle
    missing = missing_scopes(account)
    if missing:
        effects = " ".join(SCOPE_EFFECTS[s] for s in missing)
        return _finish(
            True,
            f"{name} is connected, but some permissions were not granted: {effects} "
            "Use Reconnect and keep every box ticked to fix this.",
            account=account,
        )
    verb = "reconnected" if reconnect_id is not None or existing is not None else "connected"
    return _finish(True, f"{name} is {verb}.", account=account)


@bp.route("/connect/wait")
def wait():
    """Tell the first tab when the OAuth tab has finished (204 until then; htmx keeps polling)."""
    since = request.args.get("since", type=float)
    if since is None:
        abort(400)
    raw = get_redis().get(_result_key(current_user.id))
    result = json.loads(raw) if raw else None
    if result is None or result["at"] <= since:
        return "", 204
    flash(result["message"], "success" if result["ok"] else "error")
    if htmx.is_htmx():
        # A 3xx would be followed inside the XHR, hiding HX-Redirect; answer 200 with the header.
        return htmx.redirect(make_response("", 200), url_for("accounts.index"))
    return redirect(url_for("accounts.index"), code=303)
