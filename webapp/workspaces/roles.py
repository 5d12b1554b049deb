"""The roles a person can have in a workspace and what each may do (the one table of them).

Instance admins act as managers in every workspace. Every route of a workspace names the
capability it needs (webapp.permissions.requires) and the server checks it on each request.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A person's role in one workspace."""

    MANAGER = "manager"
    EDITOR = "editor"
    VIEWER = "viewer"


class Can(StrEnum):
    """What a route lets a person do in a workspace."""

    VIEW = "view"  # read anything in the workspace
    EDIT = "edit"  # upload and change media, compose and save drafts
    POST = "post"  # post now, schedule, cancel, retry (through approval when it is on)
    APPROVE = "approve"  # approve or send back what editors submitted
    CONNECT = "connect"  # connect, reconnect and disconnect TikTok accounts
    MANAGE = "manage"  # invite and remove members, change roles, the workspace's settings


GRANTS: dict[Role, frozenset[Can]] = {
    Role.MANAGER: frozenset(Can),
    Role.EDITOR: frozenset({Can.VIEW, Can.EDIT, Can.POST}),
    Role.VIEWER: frozenset({Can.VIEW}),
}
LABELS = {Role.MANAGER: "Manager", Role.EDITOR: "Editor", Role.VIEWER: "Viewer"}
SUMMARIES = {
    Role.MANAGER: "Connects and disconnects accounts, invites and removes members, sets the "
    "workspace's settings and approves posts.",
    Role.EDITOR: "Uploads media, composes and schedules posts, and posts directly unless "
    "approval is on.",
    Role.VIEWER: "Sees everything in the workspace and changes nothing.",
}
REFUSALS = {
    Can.EDIT: "Viewers can't change anything in this workspace.",
    Can.POST: "Viewers can't post or schedule in this workspace.",
    Can.APPROVE: "Only the workspace's managers approve posts.",
    Can.CONNECT: "Only the workspace's managers connect and disconnect TikTok accounts.",
    Can.MANAGE: "Only the workspace's managers change its members and settings.",
    Can.VIEW: "You aren't a member of this workspace.",
}


def parse(value: str) -> Role | None:
    """Return the role named value, or None when it names none."""
    try:
        return Role(value)
    except ValueError:
        return None


def allows(role: Role | str | None, capability: Can) -> bool:
    """Tell whether role may do capability (no role: nothing)."""
    role = parse(role) if isinstance(role, str) else role
    return role is not None and capability in GRANTS[role]


def label(role: Role | str) -> str:
    """Return the role as people read it."""
    parsed = parse(role) if isinstance(role, str) else role
    return LABELS.get(parsed, str(role)) if parsed else str(role)
