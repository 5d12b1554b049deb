"""Access rules applied in views (never only in templates)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from webapp.extensions import login_manager


def require_login(bp: Blueprint) -> None:
    """Send anonymous users of every route in bp to the sign-in page."""

    @bp.before_request
    def _login_required():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None


def require_admin(bp: Blueprint) -> None:
    """Send anonymous users to sign in and refuse members (403) on every route in bp."""

    @bp.before_request
    def _admin_required():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return None
