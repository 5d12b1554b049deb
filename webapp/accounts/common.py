"""What the Accounts views share: the TikTok client, the signed-in user's accounts."""

from __future__ import annotations

from flask import abort, current_app, request
from flask_login import current_user

from webapp.accounts import CALLBACK_PATH
from webapp.models import Account, TikTokService
from webapp.tiktok.accounts import client_for


def public_url(path: str) -> str:
    """Return the address outsiders (TikTok) reach path at: PUBLIC_URL, else this request's."""
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + path


def redirect_uri() -> str:
    """Return the OAuth redirect URI operators register with TikTok."""
    return public_url(CALLBACK_PATH)


def tiktok_client():
    """Return a TikTok client for the configured app."""
    return client_for(TikTokService.load(), current_app.config)


def own_account(account_id: int) -> Account:
    """Return the current user's account, or 404 (never another user's)."""
    account = Account.get_or_none((Account.id == account_id) & (Account.owner == current_user.id))
    if account is None:
        abort(404)
    return account
