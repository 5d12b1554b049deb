"""The Accounts page, the account check, and Disconnect."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import publishing
from webapp.accounts import bp
from webapp.accounts.common import own_account, tiktok_client
from webapp.extensions import get_redis
from webapp.models import Account, Post, PostTarget, TikTokService
from webapp.tiktok import TikTokError
from webapp.tiktok.accounts import SCOPE_EFFECTS, check_account, missing_scopes


@bp.route("/")
def index():
    """List the user's connected accounts as cards."""
    accounts = list(
        Account.select()
        .where((Account.owner == current_user.id) & (Account.status != "disconnected"))
        .order_by(Account.display_name)
    )
    return render_template(
        "accounts/index.html",
        accounts=accounts,
        missing={a.id: [(s, SCOPE_EFFECTS[s]) for s in missing_scopes(a)] for a in accounts},
        service=TikTokService.load(),
    )


@bp.route("/<int:account_id>/check", methods=["POST"])
def check(account_id: int):
    """Ask TikTok now whether the account can still post."""
    account = own_account(account_id)
    outcome = check_account(account.id, client=tiktok_client(), redis=get_redis())
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
            tiktok_client().revoke(account.access_token())
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
            account.id, f"Cancelled: @{account.username} was disconnected.", get_redis()
        )
    cancelled = [post.caption[:40] or f"post #{post.id}" for post in posts]
    name = f"@{account.username}" if account.username else account.display_name
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
