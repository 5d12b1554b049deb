"""What the Accounts views share: the signed-in user's accounts."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from webapp.models import Account


def own_account(account_id: int) -> Account:
    """Return the current user's account, or 404 (never another user's)."""
    account = Account.get_or_none((Account.id == account_id) & (Account.owner == current_user.id))
    if account is None:
        abort(404)
    return account
