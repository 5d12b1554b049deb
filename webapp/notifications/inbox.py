"""What the app told each person, per workspace: their list and the unread count the layout
shows. A notification about no workspace (the installation) shows in every one."""

from __future__ import annotations

from webapp.models import Notification, utcnow


def of(user_id: int, workspace_id: int | None):
    """Return a query of the user's notifications in a workspace (and the installation's)."""
    query = Notification.select().where(Notification.user == user_id)
    if workspace_id is not None:
        query = query.where(
            (Notification.workspace == workspace_id) | Notification.workspace.is_null()
        )
    return query


def _unread(user_id: int, workspace_id: int | None):
    return of(user_id, workspace_id).where(Notification.read_at.is_null())


def unread_count(user_id: int, workspace_id: int | None = None) -> int:
    """Return how many of those notifications the user hasn't read."""
    return _unread(user_id, workspace_id).count()


def mark_read(user_id: int, workspace_id: int | None) -> int:
    """Mark them all read; return how many were unread."""
    return (
        Notification.update(read_at=utcnow())
        .where(Notification.id.in_(_unread(user_id, workspace_id).select(Notification.id)))
        .execute()
    )
