"""Invitations to join a workspace (no Flask): single-use links that expire after a week.

Only a sha256 digest of a link's secret is stored, so the database alone can't open one. The
link reaches the invited person by email when SMTP is configured, else the manager copies it
from a page shown once. Accepting checks the link again inside the transaction and marks it
used with a conditional update, so two clicks can't both join.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import peewee as pw

from webapp.db import db
from webapp.models import Invitation, Membership, User, Workspace, normalize_email, utcnow
from webapp.validation import email_problem
from webapp.workspaces.members import RuleError, add_member
from webapp.workspaces.roles import Role, label, parse

LIFETIME = dt.timedelta(days=7)
# Open invitations a workspace may have at once (each is a way in; revoke old ones first).
MAX_PENDING = 50
# Invitations a workspace may send per hour: each can be an email to any address.
MAX_PER_HOUR = 30
NAME_MAX = 120
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")

INVALID = (
    "This invitation link isn't valid. Check that you copied all of it, or ask the "
    "workspace's manager for a new one."
)
USED = (
    "This invitation link has already been used: each link works once. If that wasn't you, "
    "ask the workspace's manager for a new one."
)
REVOKED = "This invitation was withdrawn by the workspace's manager. Ask them for a new one."


class InvitationError(RuleError):
    """A link that can't be used (unknown, used, withdrawn or expired), with an HTTP status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def digest(token: str) -> str:
    """Return the stored form of a link's secret."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def pending(workspace: Workspace | int):
    """Return a query of the workspace's invitations still waiting to be used, newest first."""
    return (
        Invitation.select(Invitation, User)
        .join(User, on=(Invitation.invited_by == User.id), join_type=pw.JOIN.LEFT_OUTER)
        .where(
            (Invitation.workspace == workspace)
            & Invitation.used_at.is_null()
            & Invitation.revoked_at.is_null()
            & (Invitation.expires_at > utcnow())
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )


@dataclass
class Invited:
    """A new invitation and its link's secret (shown or emailed once, never stored)."""

    invitation: Invitation
    token: str


def invite(workspace: Workspace, email: str, role: str, invited_by: User | None) -> Invited:
    """Invite email to the workspace with role; an older open invitation of the same address
    is withdrawn (its link stops working). Refuses a bad address, an unknown role and a
    person who is already a member."""
    email = normalize_email(email)
    problem = email_problem(email)
    if not problem and any(ord(c) < 32 or ord(c) == 127 for c in email):
        problem = "Enter an email address like name@example.com."
    if problem:
        raise RuleError(problem)
    parsed = parse(role or "")
    if parsed is None:
        raise RuleError("Choose a role: manager, editor or viewer.")
    token = secrets.token_urlsafe(32)
    with db.atomic():
        person = User.by_email(email)
        if person is not None and Membership.get_or_none(
            (Membership.workspace == workspace) & (Membership.user == person.id)
        ):
            raise RuleError(f"{email} is already a member of this workspace.")
        now = utcnow()
        Invitation.update(revoked_at=now).where(
            (Invitation.workspace == workspace)
            & (Invitation.email == email)
            & Invitation.used_at.is_null()
            & Invitation.revoked_at.is_null()
        ).execute()
        recent = Invitation.select().where(
            (Invitation.workspace == workspace)
            & (Invitation.created_at > now - dt.timedelta(hours=1))
        )
        if recent.count() >= MAX_PER_HOUR:
            raise RuleError(
                f"This workspace sent {MAX_PER_HOUR} invitations in the last hour. Wait a "
                "while before inviting more people."
            )
        if pending(workspace).count() >= MAX_PENDING:
            raise RuleError(
                f"This workspace has {MAX_PENDING} open invitations. Withdraw some before "
                "inviting more people."
            )
        invitation = Invitation.create(
            workspace=workspace,
            email=email,
            role=parsed,
            token_digest=digest(token),
            invited_by=invited_by.id if invited_by is not None else None,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    return Invited(invitation, token)


def revoke(workspace: Workspace | int, invitation_id: int) -> Invitation:
    """Withdraw one of the workspace's open invitations (its link stops working)."""
    invitation = pending(workspace).where(Invitation.id == invitation_id).first()
    if invitation is None:
        raise RuleError("This invitation is no longer open: it was used, withdrawn or expired.")
    Invitation.update(revoked_at=utcnow()).where(
        (Invitation.id == invitation.id) & Invitation.revoked_at.is_null()
    ).execute()
    return invitation


def _format(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC"


def look_up(token: str) -> Invitation:
    """Return the open invitation a link's secret opens, or raise InvitationError saying
    plainly why it can't be used."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise InvitationError(INVALID, 404)
    invitation = (
        Invitation.select(Invitation, Workspace)
        .join(Workspace)
        .where(Invitation.token_digest == digest(token))
        .first()
    )
    if invitation is None:
        raise InvitationError(INVALID, 404)
    if invitation.used_at is not None:
        raise InvitationError(USED, 410)
    if invitation.revoked_at is not None:
        raise InvitationError(REVOKED, 410)
    if invitation.expires_at <= utcnow():
        raise InvitationError(
            f"This invitation link expired on {_format(invitation.expires_at)} (links work for "
            f"{LIFETIME.days} days). Ask the workspace's manager for a new one.",
            410,
        )
    return invitation


def expires_text(invitation: Invitation) -> str:
    """Return when the invitation's link stops working, as people read it."""
    return _format(invitation.expires_at)


def new_person_problems(name: str, password: str) -> dict[str, str]:
    """Return what is wrong with a new person's name and password, by field (empty: fine)."""
    from webapp.models import MIN_PASSWORD_LENGTH
    from webapp.validation import password_problem

    problems = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = "Enter your name, as your colleagues will see it."
    elif len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        problems["name"] = f"Use at most {NAME_MAX} characters, without control characters."
    problem = password_problem(password or "", MIN_PASSWORD_LENGTH)
    if problem:
        problems["password"] = problem
    return problems


def accept(token: str, user: User | None, *, name: str = "", password: str = "") -> tuple:
    """Use the link: the signed-in user (who must be the invited address) joins, or, with
    user None, a login is made for the invited address with name and password (no workspace
    of its own). Return (workspace, user, role)."""
    from webapp.people import RuleError as PeopleRuleError
    from webapp.people import create_user

    with db.atomic():
        invitation = look_up(token)
        if user is None:
            if User.by_email(invitation.email) is not None:
                raise RuleError(
                    f"{invitation.email} already has a login: sign in, then open this link again."
                )
            problems = new_person_problems(name, password)
            if problems:
                raise RuleError(" ".join(problems.values()))
            try:
                user = create_user(
                    invitation.email, password, name=name.strip(), personal_workspace=False
                )
            except PeopleRuleError as exc:
                raise RuleError(str(exc)) from exc
        elif normalize_email(user.email) != invitation.email:
            raise RuleError(
                f"This invitation is for {invitation.email}, and you are signed in as "
                f"{user.email}. Sign out, then open the link again."
            )
        claimed = (
            Invitation.update(used_at=utcnow(), used_by=user.id)
            .where(
                (Invitation.id == invitation.id)
                & Invitation.used_at.is_null()
                & Invitation.revoked_at.is_null()
            )
            .execute()
        )
        if not claimed:
            raise InvitationError(USED, 410)
        existing = Membership.get_or_none(
            (Membership.workspace == invitation.workspace_id) & (Membership.user == user.id)
        )
        # Someone already in keeps their role (an invitation never demotes a manager).
        role = parse(existing.role) if existing else Role(invitation.role)
        if existing is None:
            add_member(invitation.workspace_id, user, role)
    return invitation.workspace, user, role


def email_text(invitation: Invitation, link: str, app_name: str) -> tuple[str, str]:
    """Return the subject and body of the email carrying an invitation's link."""
    from webapp.workspaces.roles import SUMMARIES

    workspace = invitation.workspace
    inviter = invitation.invited_by.display_name if invitation.invited_by else "A manager"
    role = Role(invitation.role)
    subject = f"{app_name}: join the workspace “{workspace.name}”"
    body = (
        f"{inviter} invited you to the workspace “{workspace.name}” on {app_name}, as "
        f"{label(role).lower()}: {SUMMARIES[role]}\n\n"
        f"Open this link to join. It works once, until {expires_text(invitation)}:\n{link}\n\n"
        "If you didn't expect this invitation, ignore this email.\n"
    )
    return subject, body
