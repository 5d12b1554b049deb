"""The Accounts page, connecting and reconnecting (OAuth), the account check, and Disconnect."""

from __future__ import annotations

import time

from flask import (
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from webapp import htmx, publishing
from webapp.accounts import bp, callback_bp, connecting
from webapp.accounts.common import own_account
from webapp.addresses import CALLBACK_PATH
from webapp.extensions import get_redis
from webapp.models import Account, Post, PostTarget, TikTokService
from webapp.permissions import requires
from webapp.tiktok import TikTokError
from webapp.tiktok.tokens import SCOPE_EFFECTS, app_client, check_account, missing_scopes
from webapp.workspaces.roles import Can


@bp.route("/")
@requires(Can.VIEW)
def index():
    """List the workspace's connected accounts as cards."""
    accounts = list(
        Account.select()
        .where((Account.workspace == g.workspace.id) & (Account.status != "disconnected"))
        .order_by(Account.display_name)
    )
    return render_template(
        "accounts/index.html",
        accounts=accounts,
        missing={a.id: [(s, SCOPE_EFFECTS[s]) for s in missing_scopes(a)] for a in accounts},
        service=TikTokService.load(),
    )


@bp.route("/add")
@requires(Can.CONNECT)
def add():
    """Show the providers one can connect (a dialog over htmx, a page otherwise)."""
    service = TikTokService.load()
    template = "accounts/_add_dialog.html" if htmx.wants_partial() else "accounts/add.html"
    reconnect = request.args.get("reconnect", type=int)
    if reconnect is not None:
        own_account(reconnect)
    return render_template(template, service=service, since=time.time(), reconnect=reconnect)


@bp.route("/connect/tiktok")
@requires(Can.CONNECT)
def connect():
    """Send the browser to TikTok's authorization page (opened in a new tab)."""
    if not TikTokService.load().is_configured:
        flash(
            "TikTok isn't set up yet: an admin must enter the client key and secret "
            "in Admin Console → Services.",
            "error",
        )
        return redirect(url_for("accounts.index"))
    reconnect = request.args.get("reconnect", type=int)
    if reconnect is not None:
        own_account(reconnect)
    nonce = connecting.session_nonce(session)
    return redirect(connecting.authorize_url(current_user, g.workspace, nonce, reconnect))


@callback_bp.route(CALLBACK_PATH)
def callback():
    """Finish OAuth (TikTok sends the browser here) and show how it ended."""
    outcome = connecting.finish(current_user, session.get("oauth_nonce"), request.args)
    return render_template(
        "accounts/callback.html", ok=outcome.ok, message=outcome.message, account=outcome.account
    ), outcome.status


@bp.route("/connect/wait")
@requires(Can.CONNECT)
def wait():
    """Tell the first tab when the OAuth tab has finished (204 until then; htmx keeps polling)."""
    since = request.args.get("since", type=float)
    if since is None:
        abort(400)
    result = connecting.result_since(current_user, since)
    if result is None:
        return "", 204
    flash(result["message"], "success" if result["ok"] else "error")
    if htmx.is_htmx():
        # A 3xx would be followed inside the XHR, hiding HX-Redirect; answer 200 with the header.
        return htmx.redirect(make_response("", 200), url_for("accounts.index"))
    return redirect(url_for("accounts.index"), code=303)


@bp.route("/<int:account_id>/check", methods=["POST"])
@requires(Can.CONNECT)
def check(account_id: int):
    """Ask TikTok now whether the account can still post."""
    account = own_account(account_id)
    outcome = check_account(account.id, client=app_client(), redis=get_redis())
    flash(outcome.message, "success" if outcome.ok else "error")
    return redirect(url_for("accounts.index"), code=303)


def _scheduled_targets(account: Account):
    return (
        PostTarget.select(PostTarget, Post)
        .join(Post)
        .where((PostTarget.account == account.id) & (PostTarget.status == "scheduled"))
        .where(Post.status == "scheduled")
    )


@bp.route("/<int:account_id>/disconnect", methods=["GET", "POST"])
@requires(Can.CONNECT)
def disconnect(account_id: int):
    """Ask for confirmation; then revoke at TikTok, delete the tokens, cancel scheduled posts."""
    account = own_account(account_id)
    targets = list(_scheduled_targets(account))
    if account.status == "disconnected":
        flash("This account is already disconnected.", "info")
        return redirect(url_for("accounts.index"), code=303)
    if request.method == "GET":
        return render_template("accounts/disconnect.html", account=account, targets=targets)
    revoked = True
    if account.access_token_enc:
        try:
            app_client().revoke(account.access_token())
        except TikTokError:
            revoked = False
    with publishing.transaction():  # drops the cancelled targets' jobs once committed
        account.set_tokens(None, None)
        account.access_token_expires_at = account.refresh_token_expires_at = None
        account.status = "disconnected"
        account.status_reason = "Disconnected by " + current_user.display_name
        account.save()
        # Only targets still scheduled now: a run that started during the revoke keeps going.
        posts = publishing.cancel_for_account(
            account.id, f"Cancelled: {account.handle} was disconnected.", get_redis()
        )
    cancelled = [post.caption[:40] or f"post #{post.id}" for post in posts]
    name = account.handle
    message = f"{name} is disconnected and its tokens are deleted; published posts stay in history."
    if not revoked:
        message += (
            " TikTok could not be reached to revoke access;"
            " remove Cadence in TikTok's settings to be sure."
        )
    if cancelled:
        message += " Cancelled scheduled posts: " + "; ".join(f"“{c}”" for c in cancelled) + "."
    flash(message, "success")
    return redirect(url_for("accounts.index"), code=303)
