"""The statuses and phases of posts and post targets, and the rules that read them.

A post waiting for a manager's approval (and its targets) is "awaiting_approval": nothing of it
is queued, and approving it moves it to scheduled. A target moves scheduled → publishing (phase
checking → initializing → uploading → processing) → published | inbox | needs_attention |
failed | unconfirmed, or → cancelled; a published public post may stay in phase "moderation"
until TikTok gives its public id. Status changes only move forward, so a status poll and a
webhook carrying the same news can arrive in any order. The values are the strings stored in
the database. This module imports no model: the models read it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class Status(StrEnum):
    """The status of a post or of one of its targets."""

    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    INBOX = "inbox"
    NEEDS_ATTENTION = "needs_attention"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    CANCELLED = "cancelled"


class Phase(StrEnum):
    """How far a publishing target got ("" outside publishing, "moderation" after it)."""

    NONE = ""
    CHECKING = "checking"
    INITIALIZING = "initializing"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    MODERATION = "moderation"


LABELS = {
    Status.DRAFT: "Draft",
    Status.AWAITING_APPROVAL: "Awaiting approval",
    Status.SCHEDULED: "Scheduled",
    Status.PUBLISHING: "Publishing",
    Status.PUBLISHED: "Published",
    Status.INBOX: "Sent to your TikTok inbox",
    Status.NEEDS_ATTENTION: "Needs attention",
    Status.FAILED: "Failed",
    Status.UNCONFIRMED: "Unconfirmed",
    Status.CANCELLED: "Cancelled",
}
PUBLISHED_SELF_ONLY = "Published (only you can see it)"
INBOX_LABEL = "Sent to your TikTok inbox: open the TikTok app to finish"
UNCONFIRMED_LABEL = "Unconfirmed: check your TikTok profile before posting again"
MISSED_LABEL = "Missed: approve with a new time"

# A target in one of these is finished: nothing more will be sent for it.
FINAL_STATUSES = (
    Status.PUBLISHED,
    Status.INBOX,
    Status.NEEDS_ATTENTION,
    Status.FAILED,
    Status.UNCONFIRMED,
    Status.CANCELLED,
)
# Finished, and nothing TikTok may still report can change it (a published post can still
# receive its public id).
CLOSED_STATUSES = (Status.FAILED, Status.NEEDS_ATTENTION, Status.CANCELLED, Status.INBOX)
# A post (or target) in one of these may still be edited or replaced: nobody started it.
EDITABLE = (Status.DRAFT, Status.AWAITING_APPROVAL, Status.SCHEDULED)
# Targets that count against an account's daily posts.
LIVE = (Status.SCHEDULED, Status.PUBLISHING, Status.PUBLISHED)
# Phases of a run that a worker is carrying (the reconciler resumes them when the run died).
RUN_PHASES = (Phase.NONE, Phase.CHECKING, Phase.INITIALIZING, Phase.UPLOADING)
# The worst news wins when a post's status is set from its targets'.
POST_STATUS_ORDER = (
    Status.NEEDS_ATTENTION,
    Status.FAILED,
    Status.UNCONFIRMED,
    Status.PUBLISHING,
    Status.SCHEDULED,
    Status.AWAITING_APPROVAL,
)

# How long Cadence follows a publish TikTok hasn't confirmed (and a public post's missing link).
UNCONFIRMED_AFTER = dt.timedelta(hours=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def awaits_public_id(privacy_level: str | None) -> bool:
    """Tell whether TikTok will send a published post's public id: only for posts everyone can
    see (tiktok-api.md 3.6); "Only me", Friends and Followers posts never get one."""
    return privacy_level == "PUBLIC_TO_EVERYONE"


def in_moderation(target) -> bool:
    """Tell whether target is published and TikTok is still reviewing it (no public link yet)."""
    return target.status == Status.PUBLISHED and target.phase == Phase.MODERATION


def in_progress(target) -> bool:
    """Tell whether the status widget should keep following target."""
    return target.status not in FINAL_STATUSES or in_moderation(target)


def overdue(target, now: dt.datetime | None = None) -> bool:
    """Tell whether TikTok has had UNCONFIRMED_AFTER to confirm a publish and hasn't: the target
    then ends "unconfirmed" and is never posted again blindly."""
    return (
        target.status == Status.PUBLISHING
        and target.initialized_at is not None
        and (now or _now()) - target.initialized_at > UNCONFIRMED_AFTER
    )


def needs_checks(target, now: dt.datetime | None = None) -> bool:
    """Tell whether status/fetch still has news for target: TikTok is processing it, or a public
    post waits for its public id (for UNCONFIRMED_AFTER at most)."""
    if target.status == Status.PUBLISHING and target.phase == Phase.PROCESSING:
        return True
    return (
        in_moderation(target)
        and awaits_public_id(target.privacy_level)
        and not target.publicaly_available_post_id
        and target.published_at is not None
        and (now or _now()) - target.published_at < UNCONFIRMED_AFTER
    )


def editable(status: str) -> bool:
    """Tell whether a post or target in status may still be edited (nobody started it)."""
    return status in EDITABLE


def post_status(statuses: list[str]) -> str | None:
    """Return a post's status from its targets' (the worst news wins; None when it has none)."""
    if not statuses:
        return None
    status = next((s for s in POST_STATUS_ORDER if s in statuses), None)
    if status is not None:
        return status
    return Status.CANCELLED if all(s == Status.CANCELLED for s in statuses) else Status.PUBLISHED


def target_label(status: str, privacy_level: str | None) -> str:
    """Return a target's status as users read it."""
    if status == Status.PUBLISHED and privacy_level == "SELF_ONLY":
        return PUBLISHED_SELF_ONLY
    if status == Status.INBOX:
        return INBOX_LABEL
    if status == Status.UNCONFIRMED:
        return UNCONFIRMED_LABEL
    return LABELS.get(status, status)


def missed(status: str, scheduled_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Tell whether a post awaiting approval has passed the time it asked for: it never goes out
    late on its own, only once approved with a new time (a post asked for "now" has no time)."""
    return (
        status == Status.AWAITING_APPROVAL
        and scheduled_at is not None
        and scheduled_at <= (now or _now())
    )


def post_label(status: str, scheduled_at: dt.datetime | None = None) -> str:
    """Return a post's status as users read it (a missed approval says what to do)."""
    if missed(status, scheduled_at):
        return MISSED_LABEL
    return LABELS.get(status, status)
