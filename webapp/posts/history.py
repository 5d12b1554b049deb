"""The posts' history, the part with rules: who sees which posts, the Posts list's filters and
keyset pages, a post's status per account and timeline, and the Calendar's days (each read from
an index, so a page costs the same at a million posts as at forty). The views in views.py parse
the request, call these and render."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple

import peewee as pw
from peewee import fn

from webapp import publishing
from webapp.models import Account, Post, PostEvent, PostTarget
from webapp.models.accounts import handle_of
from webapp.pagination import keyset_page, rows_per_range, value_per_range
from webapp.timezones import to_utc

# The filters of the Posts list, in menu order: (query value, label, statuses).
FILTERS = [
    ("", "All", None),
    ("awaiting_approval", "Awaiting approval", ["awaiting_approval"]),
    ("scheduled", "Scheduled", ["scheduled"]),
    ("publishing", "Publishing", ["publishing"]),
    ("published", "Published", ["published"]),
    ("needs_attention", "Needs attention", ["needs_attention"]),
    ("failed", "Failed", ["failed"]),
    ("unconfirmed", "Unconfirmed", ["unconfirmed"]),
    ("drafts", "Drafts", ["draft"]),
    ("cancelled", "Cancelled", ["cancelled"]),
]
CALENDAR_STATUSES = [
    "scheduled",
    "publishing",
    "published",
    "needs_attention",
    "failed",
    "unconfirmed",
]
CalendarPost = namedtuple("CalendarPost", "id caption status scheduled_at")
MONTH_EVENTS_PER_DAY = 4  # a month cell shows this many; "+N more" opens the week
WEEK_EVENTS_PER_DAY = 60  # beyond that a day is unreadable; "+N more" opens the Posts list


def visible_posts(workspace_id: int):
    """Return a query of the workspace's posts (what its members see)."""
    return Post.select().where(Post.workspace == workspace_id)


def visible_post(workspace_id: int, post_id: int) -> Post | None:
    """Return the post if it belongs to the workspace, else None."""
    return visible_posts(workspace_id).where(Post.id == post_id).get_or_none()


def statuses_of(chosen: str) -> tuple[bool, list[str] | None]:
    """Return whether chosen names a filter, and its statuses (None: all)."""
    for value, _label, statuses in FILTERS:
        if value == chosen:
            return True, statuses
    return False, None


def list_page(workspace_id: int, statuses: list[str] | None, older: str | None, newer: str | None):
    """Return a page of the workspace's posts (newest first, from the cursor given) and, per
    post, the accounts it goes to as people recognise them."""
    query = visible_posts(workspace_id)
    if statuses:
        query = query.where(Post.status.in_(statuses))
    page = keyset_page(query, Post.created_at, Post.id, older=older, newer=newer)
    return page, accounts_of([p.id for p in page.items])


def accounts_of(post_ids: list[int]) -> dict[int, list[str]]:
    """Return, per post, the accounts it goes to as people recognise them (one query)."""
    accounts: dict[int, list[str]] = {}
    if post_ids:
        rows = (
            PostTarget.select(PostTarget.post, Account.username, Account.display_name)
            .join(Account)
            .where(PostTarget.post.in_(post_ids))
            .tuples()
        )
        for post_id, username, name in rows:
            accounts.setdefault(post_id, []).append(handle_of(username, name))
    return accounts


def targets_of(post: Post) -> list[PostTarget]:
    """Return the post's targets with their accounts, by account name."""
    return list(
        PostTarget.select(PostTarget, Account)
        .join(Account)
        .where(PostTarget.post == post.id)
        .order_by(Account.display_name)
    )


def is_live(post: Post, targets: list[PostTarget]) -> bool:
    """Tell whether work on the post is still under way (its status widget keeps polling)."""
    return any(publishing.in_progress(t) for t in targets) and post.status != "draft"


def events_of(post: Post) -> list[PostEvent]:
    """Return the post's timeline, newest first (the latest 200 lines)."""
    return list(post.events.order_by(PostEvent.created_at.desc(), PostEvent.id.desc()).limit(200))


def calendar_days(
    workspace_id: int, days: list[dt.date], zone, per_day: int
) -> tuple[dict[dt.date, list], dict[dt.date, int]]:
    """Return, for each local day, its first per_day posts (by time) and how many more it has.

    Each day is a range on scheduled_at (its local midnight to the next, in UTC) read from an
    index on (workspace, scheduled_at, status): one query
    for the rows, at most per_day + 1 per day, and one counting only the days that overflow.
    A month costs the same whether it holds forty posts or forty thousand.
    """
    edges = [to_utc(dt.datetime.combine(day, dt.time()), zone) for day in days]
    edges.append(to_utc(dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time()), zone))
    ranges = list(zip(days, edges, edges[1:], strict=False))

    def in_day(lo: dt.datetime, hi: dt.datetime) -> pw.ModelSelect:
        return visible_posts(workspace_id).where(
            Post.status.in_(CALENDAR_STATUSES)
            & (Post.scheduled_at >= lo)
            & (Post.scheduled_at < hi)
        )

    def firsts(lo, hi) -> pw.ModelSelect:
        return (
            in_day(lo, hi)
            .select(Post.id, Post.caption, Post.status, Post.scheduled_at)
            .order_by(Post.scheduled_at, Post.id)
            .limit(per_day + 1)
        )

    by_day: dict[dt.date, list] = {}
    # Plain rows, not model instances; the day is recomputed from the time in the user's zone.
    for row in rows_per_range(firsts, [(lo, hi) for _day, lo, hi in ranges]):
        post = CalendarPost(*row)
        local = post.scheduled_at.replace(tzinfo=dt.UTC).astimezone(zone)
        by_day.setdefault(local.date(), []).append((local, post))
    for posts in by_day.values():
        posts.sort(key=lambda pair: (pair[0], pair[1].id))  # the database's order isn't promised
    more: dict[dt.date, int] = {}
    full = [(day, lo, hi) for day, lo, hi in ranges if len(by_day.get(day, ())) > per_day]
    counts = value_per_range(
        lambda lo, hi: in_day(lo, hi).select(fn.COUNT(pw.SQL("*"))),
        [(lo, hi) for _day, lo, hi in full],
    )
    for (day, _lo, _hi), total in zip(full, counts, strict=True):
        more[day] = total - per_day
        by_day[day] = by_day[day][:per_day]
    return by_day, more
