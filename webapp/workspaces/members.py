"""Rules about workspaces and their members, shared by the web app, the CLI and the jobs (no
Flask): creating a workspace, who is in it with which role, and the edges that must hold (a
workspace always keeps a manager)."""

from __future__ import annotations

import re

import peewee as pw

from webapp.db import db
from webapp.models import Membership, User, Workspace
from webapp.workspaces.roles import Role, parse

NAME_MAX = 80
SLUG_MAX = 40


class RuleError(ValueError):
    """A change refused by a rule; the message is written for the person who asked."""


def name_problem(name: str) -> str:
    """Return what is wrong with a workspace name ('' when nothing)."""
    name = (name or "").strip()
    if not name:
        return "Give the workspace a name."
    if len(name) > NAME_MAX:
        return f"A workspace name has at most {NAME_MAX} characters."
    if any(ord(c) < 32 for c in name):
        return "A workspace name can't contain control characters."
    return ""


def _slug_base(name: str) -> str:
    base = (
        re.sub(r"[^a-z0-9]+", "-", re.sub(r"['’]", "", name.lower()))
        .strip("-")[:SLUG_MAX]
        .strip("-")
    )
    return base or "workspace"


def _free_slug(name: str) -> str:
    base = _slug_base(name)
    taken = {
        w.slug
        for w in Workspace.select(Workspace.slug).where(
            (Workspace.slug == base) | Workspace.slug.startswith(base + "-")
        )
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def create_workspace(name: str, manager: User | None) -> Workspace:
    """Create a workspace named name, with manager (when given) as its first manager."""
    problem = name_problem(name)
    if problem:
        raise RuleError(problem)
    for _ in range(5):  # another request may take the same slug in between
        try:
            with db.atomic():
                workspace = Workspace.create(name=name.strip(), slug=_free_slug(name))
                if manager is not None:
                    Membership.create(workspace=workspace, user=manager, role=Role.MANAGER)
                return workspace
        except pw.IntegrityError:
            continue
    raise RuleError("Couldn't name the workspace's address; try again.")


def personal_name(user: User) -> str:
    """Return the name of the workspace a new person gets: their own."""
    # A person's name may hold characters a workspace name refuses (name_problem).
    name = "".join(c for c in user.name or "" if ord(c) >= 32).strip()
    who = name or user.email.split("@")[0]
    return f"{who}'s workspace"[:NAME_MAX]


def role_of(user: User, workspace: Workspace | int) -> Role | None:
    """Return user's role in workspace: their membership's, manager for instance admins, or
    None when they aren't in it."""
    row = (
        Membership.select(Membership.role)
        .where((Membership.workspace == workspace) & (Membership.user == user.id))
        .first()
    )
    if row is not None:
        return parse(row.role)
    return Role.MANAGER if user.is_admin else None


def workspaces_of(user: User) -> list[Workspace]:
    """Return the workspaces user can enter, by name: their own, or every one for admins."""
    query = Workspace.select()
    if not user.is_admin:
        query = query.join(Membership).where(Membership.user == user.id)
    return list(query.order_by(pw.fn.LOWER(Workspace.name), Workspace.id))


def default_for(user: User, remembered: str | None = None) -> Workspace | None:
    """Return the workspace to open for user: the one remembered (when they can still enter
    it), else their first membership, else (admins) the first workspace, else None."""
    if remembered:
        workspace = Workspace.get_or_none(Workspace.slug == remembered)
        if workspace is not None and role_of(user, workspace) is not None:
            return workspace
    first = (
        Workspace.select()
        .join(Membership)
        .where(Membership.user == user.id)
        .order_by(Membership.created_at, Membership.id)
        .first()
    )
    if first is None and user.is_admin:
        first = Workspace.select().order_by(Workspace.id).first()
    return first


def managers_of(workspace: Workspace | int) -> list[int]:
    """Return the ids of the workspace's active managers."""
    return [
        m.user_id
        for m in Membership.select(Membership.user)
        .join(User)
        .where(
            (Membership.workspace == workspace)
            & (Membership.role == Role.MANAGER)
            & (User.active == True)  # noqa: E712
        )
    ]


# --- members and their roles ---------------------------------------------------------------------

# Posts that still have somewhere to go: a workspace holding any can't be deleted.
UNFINISHED_POSTS = ("scheduled", "publishing", "awaiting_approval")


def _lock(workspace: Workspace | int) -> None:
    """Serialize changes to one workspace's members: a row lock on PostgreSQL (two managers
    demoting each other at once would otherwise both see the other still a manager); SQLite's
    transactions already take the write lock when they begin (webapp.db)."""
    from webapp.db import engine_name

    if engine_name() != "sqlite":
        Workspace.select(Workspace.id).where(Workspace.id == workspace).for_update().first()


def members_of(workspace: Workspace | int) -> list[Membership]:
    """Return the workspace's memberships with their people, managers first, then by name."""
    order = pw.Case(Membership.role, [(role.value, n) for n, role in enumerate(Role)], len(Role))
    return list(
        Membership.select(Membership, User)
        .join(User)
        .where(Membership.workspace == workspace)
        .order_by(order, pw.fn.LOWER(User.name), User.email)
    )


def membership(workspace: Workspace | int, user_id: int) -> Membership | None:
    """Return user_id's membership of the workspace, or None."""
    return (
        Membership.select(Membership, User)
        .join(User)
        .where((Membership.workspace == workspace) & (Membership.user == user_id))
        .first()
    )


def _other_managers(workspace: Workspace | int, user_id: int) -> int:
    return (
        Membership.select()
        .join(User)
        .where(
            (Membership.workspace == workspace)
            & (Membership.role == Role.MANAGER)
            & (Membership.user != user_id)
            & (User.active == True)  # noqa: E712 - a deactivated manager can't manage
        )
        .count()
    )


def last_manager_problem(row: Membership) -> str:
    """Say why row's person can't stop being a manager here ('' when they can): a workspace
    always keeps at least one active manager."""
    if parse(row.role) != Role.MANAGER or _other_managers(row.workspace_id, row.user_id):
        return ""
    return (
        f"{row.user.display_name} is this workspace's only manager, and a workspace always "
        "keeps one. Make someone else a manager first."
    )


def add_member(workspace: Workspace | int, user: User, role: Role | str) -> Membership:
    """Put user in the workspace with role (their role changes when they are in it already)."""
    parsed = parse(role) if isinstance(role, str) else role
    if parsed is None:
        raise RuleError("Choose a role: manager, editor or viewer.")
    with db.atomic():
        row = Membership.get_or_none(
            (Membership.workspace == workspace) & (Membership.user == user.id)
        )
        if row is None:
            return Membership.create(workspace=workspace, user=user, role=parsed)
        row.role = parsed
        row.save()
        return row


def change_role(workspace: Workspace | int, user_id: int, role: str) -> Membership:
    """Give a member a new role, refusing an unknown role and demoting the last manager."""
    parsed = parse(role or "")
    if parsed is None:
        raise RuleError("Choose a role: manager, editor or viewer.")
    with db.atomic():
        _lock(workspace)
        row = membership(workspace, user_id)
        if row is None:
            raise RuleError("This person isn't a member of this workspace.")
        if parsed != Role.MANAGER:
            problem = last_manager_problem(row)
            if problem:
                raise RuleError(problem)
        row.role = parsed
        row.save()
        return row


def remove_member(workspace: Workspace | int, user_id: int) -> Membership:
    """Take a member out of the workspace (they lose access on their next request), never the
    last manager; return the membership that was removed."""
    with db.atomic():
        _lock(workspace)
        row = membership(workspace, user_id)
        if row is None:
            raise RuleError("This person isn't a member of this workspace.")
        problem = last_manager_problem(row)
        if problem:
            raise RuleError(problem)
        row.delete_instance()
        return row


# --- settings and deleting a workspace ------------------------------------------------------------


def rename(workspace: Workspace, name: str, approval_required: bool) -> Workspace:
    """Save the workspace's name and whether editors' posts wait for a manager's approval
    (the slug stays: links keep working)."""
    problem = name_problem(name)
    if problem:
        raise RuleError(problem)
    workspace.name = name.strip()
    workspace.approval_required = bool(approval_required)
    workspace.save()
    return workspace


def delete_blockers(workspace: Workspace | int) -> dict:
    """Return what keeps the workspace from being deleted: its connected accounts and its
    unfinished posts (both empty: it can go)."""
    from webapp.models import Account, Post

    accounts = list(
        Account.select()
        .where((Account.workspace == workspace) & (Account.status != "disconnected"))
        .order_by(Account.id)
    )
    posts = list(
        Post.select()
        .where((Post.workspace == workspace) & Post.status.in_(UNFINISHED_POSTS))
        .order_by(Post.scheduled_at, Post.id)
    )
    return {"accounts": accounts, "posts": posts}


def delete_problem(blockers: dict) -> str:
    """Say what to do before the workspace can be deleted ('' when nothing)."""
    steps = []
    accounts, posts = blockers["accounts"], blockers["posts"]
    if accounts:
        one = len(accounts) == 1
        steps.append(
            f"{len(accounts)} TikTok account{'' if one else 's'} "
            f"{'is' if one else 'are'} still connected: disconnect "
            f"{'it' if one else 'them'} at Accounts first."
        )
    if posts:
        one = len(posts) == 1
        steps.append(
            f"{len(posts)} post{'' if one else 's'} {'is' if one else 'are'} scheduled, "
            f"publishing or awaiting approval: cancel {'it' if one else 'them'}, or let "
            f"{'it' if one else 'them'} finish, first."
        )
    return " ".join(steps)


def delete_workspace(workspace: Workspace, typed_name: str, media_root=None) -> list:
    """Delete the workspace with everything in it (posts and their history, media files,
    disconnected accounts, members, invitations, notifications) once typed_name is its name
    and nothing is connected or on its way; return the media rows whose files were removed."""
    from webapp.media.storage import remove_files
    from webapp.models import (
        Account,
        Invitation,
        Media,
        Notification,
        Post,
        PostEvent,
        PostMedia,
        PostTarget,
    )

    if (typed_name or "").strip() != workspace.name:
        raise RuleError(
            f"Type the workspace's name exactly as shown, “{workspace.name}”, to delete it."
        )
    try:
        with db.atomic():
            _lock(workspace.id)
            problem = delete_problem(delete_blockers(workspace.id))
            if problem:
                raise RuleError(problem)
            posts = Post.select(Post.id).where(Post.workspace == workspace.id)
            PostEvent.delete().where(PostEvent.post.in_(posts)).execute()
            PostTarget.delete().where(PostTarget.post.in_(posts)).execute()
            PostMedia.delete().where(PostMedia.post.in_(posts)).execute()
            Post.delete().where(Post.workspace == workspace.id).execute()
            media = list(Media.select().where(Media.workspace == workspace.id))
            Media.delete().where(Media.workspace == workspace.id).execute()
            Account.delete().where(Account.workspace == workspace.id).execute()
            Notification.delete().where(Notification.workspace == workspace.id).execute()
            Invitation.delete().where(Invitation.workspace == workspace.id).execute()
            Membership.delete().where(Membership.workspace == workspace.id).execute()
            Workspace.delete().where(Workspace.id == workspace.id).execute()
    except pw.IntegrityError as exc:  # a row of another workspace still points here
        raise RuleError("Something else still refers to this workspace; try again.") from exc
    # The files go once the rows are gone for good (a rollback keeps both).
    for row in media:
        remove_files(row, media_root)
    return media
