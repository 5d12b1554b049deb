"""What the Accounts views share: the current workspace's accounts."""

from __future__ import annotations

from flask import abort, g

from webapp.models import Account


def own_account(account_id: int) -> Account:
    """Return the current workspace's account, or 404 (never another workspace's)."""
    account = Account.get_or_none(
        (Account.id == account_id) & (Account.workspace == g.workspace.id)
    )
    if account is None:
        abort(404)
    return account
