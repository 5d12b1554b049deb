"""The Posts list, the Calendar and the Dashboard over a long history: keyset pages that neither
skip nor repeat, filters that follow the pages, cursors that can't break a page, calendar days
cut at the user's midnight, and the Dashboard's lists."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from tests.conftest import home, login, make_user
from webapp.models import Membership, Post, User
from webapp.pagination import BAD_CURSOR, GONE_CURSOR, Cursor

NOON = dt.datetime(2026, 3, 10, 12, 0)


def add_posts(author, count: int, *, at: dt.datetime = NOON, status: str = "published", **kw):
    """Insert count posts by author, all created at the same second; return their ids."""
    rows = [
        {
            "workspace": home(author),
            "author": author.id,
            "caption": f"{status} {n}",
            "status": status,
            "created_at": at,
            "updated_at": at,
            **kw,
        }
        for n in range(count)
    ]
    Post.insert_many(rows).execute()
    return [p.id for p in Post.select(Post.id).where(Post.created_at == at).order_by(Post.id)]


def shown_ids(body: str) -> list[int]:
    """Return the ids of the posts a Posts list page shows, in order."""
    table = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
    return [int(i) for i in re.findall(r'href="(?:/w/[\w-]+)?/(?:posts|compose)/(\d+)', table)]


def link(body: str, label: str) -> str | None:
    """Return the address of the pager link with this label, if the page has one."""
    match = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(label) + "</a>", body)
    return html.unescape(match.group(1)) if match else None


def walk(client, start: str) -> tuple[list[list[int]], list[str]]:
    """Follow "Older →" from start to the last page; return each page's ids and addresses."""
    pages, urls, url = [], [], start
    while url:
        reply = client.get(url)
        assert reply.status_code == 200, url
        body = reply.get_data(as_text=True)
        pages.append(shown_ids(body))
        urls.append(url)
        url = link(body, "Older →")
        assert len(pages) < 50
    return pages, urls


def test_pages_neither_skip_nor_repeat_posts_that_share_a_timestamp(admin_client, admin):
    tied = add_posts(admin, 47)  # more than two pages created in the same second
    older = add_posts(admin, 5, at=NOON - dt.timedelta(minutes=1))
    newer = add_posts(admin, 3, at=NOON + dt.timedelta(minutes=1))
    expected = newer[::-1] + tied[::-1] + older[::-1]  # newest first, ties by id

    pages, urls = walk(admin_client, "/posts/")
    assert [len(p) for p in pages] == [20, 20, 15]
    assert [i for page in pages for i in page] == expected
    first = admin_client.get("/posts/").get_data(as_text=True)
    assert link(first, "← Newer") is None and link(first, "« Newest") is None
    assert "page=" not in "".join(urls) and "Page 1 of" not in first

    # And back: "← Newer" from the last page shows the same pages in reverse.
    body = admin_client.get(urls[-1]).get_data(as_text=True)
    back = []
    while (newer_url := link(body, "← Newer")) is not None:
        body = admin_client.get(newer_url).get_data(as_text=True)
        back.append(shown_ids(body))
    assert back == pages[-2::-1]
    assert link(body, "Older →") is not None


def test_the_status_filter_follows_the_pages(admin_client, admin):
    failed = add_posts(admin, 25, status="failed")
    add_posts(admin, 30, at=NOON + dt.timedelta(seconds=1), status="published")
    pages, urls = walk(admin_client, "/posts/?status=failed")
    assert [i for page in pages for i in page] == failed[::-1]
    assert len(pages) == 2 and all("status=failed" in url for url in urls)
    body = admin_client.get(urls[-1]).get_data(as_text=True)
    assert "status=failed" in link(body, "← Newer") and "status=failed" in link(body, "« Newest")
    assert 'aria-current="page">Failed<' in body


def test_a_member_pages_through_only_her_workspaces_posts(client, db):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    bob_ids = add_posts(bob, 30, at=NOON + dt.timedelta(seconds=30))
    add_posts(alice, 30)
    alice_ids = [p.id for p in Post.select(Post.id).where(Post.author == alice.id)]
    login(client, bob.email)
    pages, _ = walk(client, "/posts/")
    assert sorted(i for page in pages for i in page) == bob_ids
    assert not set(alice_ids) & {i for page in pages for i in page}


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("older=garbage", BAD_CURSOR),
        ("newer=%27%3B--", BAD_CURSOR),
        ("older=20261399T250000-1", BAD_CURSOR),  # shaped right, not a date
        ("older=20260310T120000-99999999999999999999", BAD_CURSOR),  # id past any column
        ("older=00010101T000000-1", GONE_CURSOR),  # before every post
        ("newer=99991231T235959.999999-999999999999999999", ""),  # after every post: newest
        ("older=&newer=", ""),
        ("page=7", ""),  # an old page-number link shows the newest page
    ],
)
def test_a_bad_or_forged_cursor_shows_the_newest_page(admin_client, admin, query, notice):
    ids = add_posts(admin, 25)
    reply = admin_client.get(f"/posts/?{query}")
    assert reply.status_code == 200
    body = reply.get_data(as_text=True)
    assert shown_ids(body) == ids[::-1][:20]
    assert (notice in html.unescape(body)) if notice else "flash-info" not in body


def test_a_cursor_names_a_place_not_a_post(admin_client, admin):
    # A post deleted since the link was made, or a made-up place, still pages correctly.
    ids = add_posts(admin, 30)
    cursor = Cursor(NOON, ids[15]).token()
    Post.delete().where(Post.id == ids[15]).execute()
    body = admin_client.get(f"/posts/?older={cursor}").get_data(as_text=True)
    assert shown_ids(body) == ids[:15][::-1]
    assert Cursor.parse(Cursor(NOON.replace(microsecond=250), 7).token()) == Cursor(
        NOON.replace(microsecond=250), 7
    )


# --- Calendar ----------------------------------------------------------------------------------


def day_cells(body: str) -> dict[str, str]:
    """Return each calendar cell's HTML by its date label (outside days too, later wins)."""
    cells = {}
    for cell in body.split('<div class="day')[1:]:
        number = re.search(r'<span class="date">(\d+)</span>', cell).group(1)
        cells.setdefault(number, "")
        cells[number] += cell
    return cells


def schedule(author, caption: str, at: dt.datetime, status: str = "scheduled", workspace=None):
    """Add a post scheduled at a UTC time (in the author's first workspace unless told)."""
    return Post.create(
        workspace=workspace or home(author),
        author=author,
        caption=caption,
        status=status,
        scheduled_at=at,
    )


def test_calendar_days_end_at_the_users_midnight(client, db):
    tokyo = make_user("tokyo@example.com")
    User.update(timezone="Asia/Tokyo").where(User.id == tokyo.id).execute()
    # Tokyo is UTC+9: 14:59 UTC on 28 Feb is 23:59 there; 15:00 UTC is already 1 March.
    schedule(tokyo, "LastOfFeb", dt.datetime(2026, 2, 28, 14, 59))
    schedule(tokyo, "FirstOfMar", dt.datetime(2026, 2, 28, 15, 0))
    schedule(tokyo, "EndOfMar", dt.datetime(2026, 3, 31, 14, 59), status="published")
    schedule(tokyo, "AprilAlready", dt.datetime(2026, 3, 31, 15, 0))
    schedule(tokyo, "Draft", dt.datetime(2026, 3, 10, 3, 0), status="draft")
    schedule(tokyo, "Cancelled", dt.datetime(2026, 3, 10, 3, 0), status="cancelled")
    login(client, tokyo.email)
    body = client.get("/calendar/?date=2026-03-15").get_data(as_text=True)
    assert "March 2026" in body
    cells = day_cells(body)  # the grid runs from Mon 23 Feb to Sun 5 Apr
    assert "23:59 LastOfFeb" in cells["28"] and "FirstOfMar" not in cells["28"]
    assert "00:00 FirstOfMar" in cells["1"]
    assert "23:59 EndOfMar" in cells["31"] and "AprilAlready" not in cells["31"]
    assert "00:00 AprilAlready" in cells["1"]  # 1 April, shown greyed after the month
    assert "Draft" not in body and "Cancelled" not in body
    week = client.get("/calendar/?view=week&date=2026-03-01").get_data(as_text=True)
    assert "FirstOfMar" in week and "LastOfFeb" in week and "AprilAlready" not in week


def test_a_busy_day_shows_its_first_posts_and_counts_the_rest(admin_client, admin):
    other = make_user("other@example.com")
    for n in range(9):
        schedule(admin, f"Busy{n}", dt.datetime(2026, 3, 10, 8, n))
    # A colleague's post in the same workspace shows; one in another workspace doesn't.
    Membership.create(workspace=home(admin), user=other, role="editor")
    schedule(other, "NotMine", dt.datetime(2026, 3, 10, 7, 0), workspace=home(admin))
    schedule(other, "Elsewhere", dt.datetime(2026, 3, 10, 7, 30), workspace=home(other))
    schedule(admin, "Quiet", dt.datetime(2026, 3, 11, 9, 0))
    body = admin_client.get("/calendar/?date=2026-03-01").get_data(as_text=True)
    busy = day_cells(body)["10"]
    assert re.findall(r">(\d\d:\d\d) (\w+)</a>", busy) == [
        ("07:00", "NotMine"),
        ("08:00", "Busy0"),
        ("08:01", "Busy1"),
        ("08:02", "Busy2"),
    ]
    assert "+6 more" in busy and "view=week&amp;date=2026-03-10" in busy
    assert "Elsewhere" not in body
    assert "Quiet" in day_cells(body)["11"] and "more" not in day_cells(body)["11"]
    week = admin_client.get("/calendar/?view=week&date=2026-03-10").get_data(as_text=True)
    assert all(f"Busy{n}" in week for n in range(9)) and "more in Posts" not in week


def test_an_author_s_calendar_holds_only_her_posts(client, db):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    schedule(alice, "AliceSecret", dt.datetime(2026, 3, 10, 8, 0))
    for n in range(6):
        schedule(bob, f"Bob{n}", dt.datetime(2026, 3, 10, 9, n))
    login(client, bob.email)
    cell = day_cells(client.get("/calendar/?date=2026-03-01").get_data(as_text=True))["10"]
    assert "AliceSecret" not in cell and "Bob0" in cell and "+2 more" in cell


# --- Dashboard ---------------------------------------------------------------------------------


def test_the_dashboard_lists_the_right_posts(client, db):
    me, other = make_user("me@example.com"), make_user("other@example.com")
    soon = dt.datetime(2030, 1, 1, 9, 0)
    for n in range(7):
        schedule(me, f"Upcoming{n}", soon + dt.timedelta(hours=6 - n))  # 6 is the soonest
    schedule(other, "OthersUpcoming", soon - dt.timedelta(days=1))
    problems = []
    for n, status in enumerate(["failed", "needs_attention", "unconfirmed"] * 3):
        post = schedule(me, f"Problem{n}", soon - dt.timedelta(days=30), status=status)
        problems.append(post)
        Post.update(updated_at=NOON + dt.timedelta(minutes=n)).where(Post.id == post.id).execute()
    schedule(me, "Sending", soon, status="publishing")
    schedule(other, "OthersFailure", soon, status="failed")
    login(client, me.email)
    body = client.get("/").get_data(as_text=True)
    upcoming = body.split("Upcoming posts", 1)[1].split("Recent problems", 1)[0]
    assert re.findall(r">(Upcoming\d)</a>", upcoming) == [f"Upcoming{n}" for n in (6, 5, 4, 3, 2)]
    recent = body.split("Recent problems", 1)[1]
    assert re.findall(r">(Problem\d)</a>", recent) == [f"Problem{n}" for n in (8, 7, 6, 5, 4)]
    assert "Sending" in body.split("Publishing now", 1)[1].split("Upcoming posts", 1)[0]
    assert "OthersUpcoming" not in body and "OthersFailure" not in body
    assert "✓ A post is published or scheduled" in body
