"""Rules about people's logins, shared by the Admin Console and the CLI (no Flask)."""

from __future__ import annotations

import peewee as pw

from webapp.db import db
from webapp.models import MIN_PASSWORD_LENGTH, ROLES, User, normalize_email
from webapp.validation import email_problem, password_problem


class RuleError(ValueError):
    """A change refused by a rule; the message is written for the person who asked."""


def create_user(
    email: str,
    password: str,
    *,
    role: str = "member",
    name: str = "",
    personal_workspace: bool = True,
) -> User:
    """Create a user after checking email, password and role; unless told otherwise (someone
    joining by invitation), the new person gets a workspace of their own to manage."""
    email = normalize_email(email)
    for problem in (email_problem(email), password_problem(password, MIN_PASSWORD_LENGTH)):
        if problem:
            raise RuleError(problem)
    if role not in ROLES:
        raise RuleError(f"Role must be one of: {', '.join(ROLES)}.")
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password)
    try:
        with db.atomic():
            user.save()
            if personal_workspace:
                from webapp.workspaces.members import create_workspace, personal_name

                create_workspace(personal_name(user), user)
    except pw.IntegrityError as exc:
        raise RuleError("A user with this email already exists.") from exc
    return user


def _is_last_admin(user: User) -> bool:
    return user.is_admin and user.active and User.active_admins().count() <= 1


def change_role(user: User, role: str) -> None:
    """Give user a new role, refusing to demote the last active admin."""
    if role not in ROLES:
        raise RuleError(f"Role must be one of: {', '.join(ROLES)}.")
    with db.atomic():
        if role != "admin" and _is_last_admin(user):
            raise RuleError(f"{user.email} is the last admin and can't be made a member.")
        user.role = role
        user.save()


def set_active(user: User, active: bool, *, acting: User | None = None) -> None:
    """Deactivate or reactivate user, never leaving the installation without an admin."""
    with db.atomic():
        if not active:
            if acting is not None and acting.id == user.id:
                raise RuleError("You can't deactivate yourself.")
            if _is_last_admin(user):
                raise RuleError(f"{user.email} is the last admin and can't be deactivated.")
        user.active = active
        if not active:
            user.rotate_session_token()  # saves; a reactivated user signs in afresh
        else:
            user.save()
