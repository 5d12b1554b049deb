"""What the app told each person: the unread count the layout shows."""

from __future__ import annotations

from webapp.models import Notification


def unread_count(user_id: int) -> int:
    """Return how many notifications the user hasn't read."""
    return (
        Notification.select()
        .where((Notification.user == user_id) & Notification.read_at.is_null())
        .count()
    )
