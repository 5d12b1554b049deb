"""Walk the url map: every route whose address names an owned object (an account, a post, a post
target, a media file, a user) refuses a member who doesn't own it, changes nothing, and shows
nothing of it; its owner gets the page (so the refusals mean something).

New routes are covered automatically: an argument this file doesn't know fails
test_every_route_argument_is_known until it gets a factory below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest
import requests

from tests import accounts_flow as flow
from tests.conftest import csrf_token, ffmpeg_clip, ffmpeg_image, login, make_user
from tests.test_publishing import make_post
from tests.test_routes_security import ALL_RULES, PUBLIC_ENDPOINTS, STATE_CHANGING, _id
from webapp.media.storage import frame_path, store
from webapp.mediafacts import probe
from webapp.models import (
    Account,
    Media,
    Notification,
    Post,
    PostEvent,
    PostMedia,
    PostTarget,
    User,
    utcnow,
)

# Alice's words start with a tag found nowhere else, so even a shortened caption gives her away.
TAG = "zq4417"
CAPTION = f"{TAG} Alice's private caption"
MEDIA_NAME = f"{TAG}-holiday.mp4"
NOTICE = f"{TAG} Alice-only notice"
# Rows a stranger's request must leave exactly as they were (the singletons are installation-wide).
OWNED_TABLES = [User, Account, Media, Post, PostMedia, PostTarget, PostEvent, Notification]


@dataclass
class Holdings:
    """What one member owns: a connected account, a video with a cover frame, a post of it."""

    user: User
    account: Account
    media: Media
    post: Post
    target: PostTarget
    frame_ms: int


@dataclass
class World:
    """What Alice (a member) owns, and the browsers of Alice and of Bob (another member)."""

    alice: Holdings
    notice: Notification
    file_bytes: bytes
    frame_bytes: bytes
    media_root: Path
    alice_client: object
    bob_client: object
    give_bob: Callable[[], Holdings]  # Bob's own things, made only when a test needs them
    tiktok_url: str


# Route arguments that name something a user owns: how to find a member's.
OWNED_ARGS = {
    "account_id": lambda h: h.account.id,
    "post_id": lambda h: h.post.id,
    "target_id": lambda h: h.target.id,
    "media_id": lambda h: h.media.id,
    "user_id": lambda h: h.user.id,  # admin-only routes: members are refused outright
}
# Route arguments that name nothing a member owns: a value that makes the route work for Alice.
PLAIN_ARGS = {
    "ms": lambda h: h.frame_ms,  # a time within the video, only meaningful with media_id
    # Queue jobs are installation-wide and only admins see them (test_routes_security checks 403).
    "job_id": lambda h: "health-ping-0",
}
# Routes outside the session's ownership rules, and why.
EXEMPT = {
    # A signed, expiring, unguessable address for TikTok's PULL_FROM_URL; no session at all
    # (the signature is tested in test_publishing).
    "pull.serve": "signed capability URL",
}
# Documented exception: admins may open every post (webapp.posts.history.visible_posts), so they can
# follow and cancel what members publish. Everything else stays with its owner, admins included.
ADMIN_SEES_EVERY_POST = {"posts.detail", "posts.status", "posts.cancel", "posts.retry"}

IDOR_RULES = [
    r for r in ALL_RULES if r.endpoint not in EXEMPT and set(r.arguments) & set(OWNED_ARGS)
]


def _methods(rule) -> list[str]:
    # Reads first: the owner's positive control must see the object before any POST acts on it.
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    return [m for m in methods if m not in STATE_CHANGING] + [
        m for m in methods if m in STATE_CHANGING
    ]


def _address(rule, alice: Holdings, bob: Holdings | None = None, bobs=()) -> str:
    """Build rule's address from Alice's things, except for the arguments in bobs."""
    factories = {**OWNED_ARGS, **PLAIN_ARGS}
    values = {arg: factories[arg](bob if arg in bobs else alice) for arg in rule.arguments}
    return rule.build(values)[1]


def _addresses(rule, world: World) -> list[str]:
    """Return the address of Alice's object, then, when the address names several objects,
    every mix of hers and Bob's (Bob's post with her target, and so on)."""
    owned = [arg for arg in rule.arguments if arg in OWNED_ARGS]
    found = [_address(rule, world.alice)]
    if len(owned) > 1:
        bob = world.give_bob()
        for count in range(1, len(owned)):
            found += [_address(rule, world.alice, bob, bobs) for bobs in combinations(owned, count)]
    return found


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _snapshot(world: World) -> dict:
    rows = {m.__name__: list(m.select().order_by(m.id).dicts()) for m in OWNED_TABLES}
    return {"rows": rows, "files": _files(world.media_root)}


def _alice_data(world: World) -> list[bytes]:
    """Return what of Alice's must never reach Bob: her words, her names, her files' bytes."""
    middle, frame_middle = len(world.file_bytes) // 2, len(world.frame_bytes) // 2
    return [
        TAG.encode(),
        CAPTION.encode(),
        MEDIA_NAME.encode(),
        NOTICE.encode(),
        b"maya.rivers",
        b"Maya Rivers",
        b"sbx-open-maya",
        world.alice.user.email.encode(),
        world.file_bytes[middle : middle + 512],
        world.frame_bytes[frame_middle : frame_middle + 256],
    ]


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """Make the video and one cover frame once; each member stores a copy of their own."""
    folder = tmp_path_factory.mktemp("alice")
    clip = ffmpeg_clip(folder / "clip.mp4", size="360x640", seconds=3)
    frame = ffmpeg_image(folder / "frame.jpg", size="180x320")
    return clip, probe(clip), frame.read_bytes()


def _holdings(app, user, client, footage, *, creator: str, name: str, caption: str) -> Holdings:
    """Connect creator for user, store the video as user's, and schedule a post of it."""
    clip, facts, frame = footage
    assert flow.connect(client, creator=creator).status_code == 200
    account = Account.get((Account.owner == user.id) & (Account.username == creator))
    with app.app_context():
        # The upload's own storage step (the probe is the same for every copy, so done once).
        media = store(clip, name, user.id, facts=facts)
        frame_ms = media.duration_ms // 2
        frame_path(media, frame_ms).parent.mkdir(parents=True, exist_ok=True)
        frame_path(media, frame_ms).write_bytes(frame)
    assert media.status == "ready", media.problems
    post, target = make_post(user, account, media, caption=caption)
    post.scheduled_at = utcnow() + dt.timedelta(days=300)  # far off: nothing picks it up
    post.save()
    return Holdings(user, account, media, post, target, frame_ms)


@pytest.fixture
def world(app, db, tiktok, settings, footage) -> World:
    """Give Alice a connected account, a video with a cover frame, a scheduled post and a
    notification; sign in Alice and Bob in their own browsers."""
    alice_user = make_user("alice@example.com", name="Alice Owner")
    bob_user = make_user("bob@example.com", name="Bob Stranger")
    alice_client, bob_client = app.test_client(), app.test_client()
    assert login(alice_client, alice_user.email).status_code == 303
    assert login(bob_client, bob_user.email).status_code == 303
    alice = _holdings(
        app,
        alice_user,
        alice_client,
        footage,
        creator="maya.rivers",
        name=MEDIA_NAME,
        caption=CAPTION,
    )
    notice = Notification.create(
        user=alice_user, kind="post_failed", message=NOTICE, link="/posts/"
    )
    root = Path(settings["MEDIA_ROOT"])
    return World(
        alice=alice,
        notice=notice,
        file_bytes=(root / alice.media.stored_name).read_bytes(),
        frame_bytes=footage[2],
        media_root=root,
        alice_client=alice_client,
        bob_client=bob_client,
        give_bob=lambda: _holdings(
            app,
            bob_user,
            bob_client,
            footage,
            creator="lena.quiet",
            name="bob.mp4",
            caption="Bob's own post",
        ),
        tiktok_url=tiktok.url,
    )


def _alice_token_still_works(world: World) -> bool:
    account = Account.get_by_id(world.alice.account.id)
    reply = requests.get(
        f"{world.tiktok_url}/v2/user/info/?fields=open_id",
        headers={"Authorization": f"Bearer {account.access_token()}"},
        timeout=10,
    )
    return reply.status_code == 200


# --- the map itself -------------------------------------------------------------------------------


def test_every_route_argument_is_known():
    known = set(OWNED_ARGS) | set(PLAIN_ARGS)
    unknown = sorted(
        f"{r.endpoint} <{arg}>"
        for r in ALL_RULES
        if r.endpoint not in EXEMPT
        for arg in r.arguments
        if arg not in known
    )
    assert not unknown, (
        "routes with arguments this test can't fill; add a factory to OWNED_ARGS "
        f"(an owned object) or PLAIN_ARGS: {unknown}"
    )
    assert set(EXEMPT) <= PUBLIC_ENDPOINTS  # only public routes may skip ownership
    assert {r.endpoint for r in ALL_RULES} >= set(EXEMPT) | ADMIN_SEES_EVERY_POST


def test_the_map_has_owned_object_routes():
    endpoints = {r.endpoint for r in IDOR_RULES}
    assert len(IDOR_RULES) >= 14
    for arg in OWNED_ARGS:
        assert any(arg in r.arguments for r in IDOR_RULES), f"no route takes <{arg}> any more"
    assert {"accounts.disconnect", "media.file", "posts.retry", "composer.edit"} <= endpoints


# --- a stranger is refused, changes nothing, sees nothing ----------------------------------------


@pytest.mark.parametrize("rule", IDOR_RULES, ids=_id)
def test_another_member_is_refused_and_changes_nothing(world, rule):
    addresses = _addresses(rule, world)
    bob = world.bob_client
    token = csrf_token(bob, "/")
    before = _snapshot(world)
    secrets = _alice_data(world)
    for url in addresses:
        for method in _methods(rule):
            data = {"csrf_token": token} if method in STATE_CHANGING else None
            reply = bob.open(url, method=method, data=data)
            assert reply.status_code in (403, 404), (method, url, reply.status_code)
            seen = reply.get_data() + str(reply.headers).encode("latin-1")
            assert not [s for s in secrets if s in seen], (method, url)
    assert _snapshot(world) == before, f"{rule.endpoint}: Bob's requests changed Alice's data"
    assert _alice_token_still_works(world)
    # Positive control: the same address works for its owner, reads before writes.
    if rule.endpoint.startswith("admin."):
        return  # Alice is a member too; the admin's side is test_admin_exceptions_are_exactly
    for method in _methods(rule):
        data = {"csrf_token": csrf_token(world.alice_client, "/")} if method != "GET" else None
        reply = world.alice_client.open(addresses[0], method=method, data=data)
        assert reply.status_code in (200, 303), (method, addresses[0], reply.status_code)
        if method == "GET" and reply.status_code == 200:
            assert reply.get_data(), addresses[0]


def test_the_owner_sees_her_data_where_bob_is_refused(world):
    # The leak checks look for the right things: Alice's own pages carry them.
    alice = world.alice_client

    def page(path: str, **query) -> bytes:
        reply = alice.get(path, query_string=query)
        assert reply.status_code == 200, path
        return reply.get_data()

    mine = world.alice
    day = mine.post.scheduled_at.date().isoformat()
    assert CAPTION.replace("'", "&#39;").encode() in page(f"/posts/{mine.post.id}")
    assert TAG.encode() in page("/calendar/", date=day) and TAG.encode() in page("/posts/")
    assert b"maya.rivers" in page(f"/accounts/{mine.account.id}/disconnect")
    assert b"maya.rivers" in page("/accounts/")
    assert MEDIA_NAME.encode() in page("/media/")
    assert page(f"/media/{mine.media.id}/file") == world.file_bytes
    assert page(f"/media/{mine.media.id}/frame/{mine.frame_ms}.jpg") == world.frame_bytes
    assert NOTICE.encode() in page("/notifications/")


# --- ids that travel in forms and query strings ---------------------------------------------------

# (method, path, form or query, expected statuses); {account}, {media}, {post} are Alice's ids,
# {day} the day her post is scheduled for (so the calendar opens where it would show).
INDIRECT = [
    ("GET", "/accounts/add", {"reconnect": "{account}"}, {404}),
    ("GET", "/accounts/connect/tiktok", {"reconnect": "{account}"}, {404}),
    ("GET", "/compose/", {"accounts": "{account}", "media": "{media}"}, {200}),
    ("POST", "/compose/check", {"accounts": "{account}", "media": "{media}"}, {200}),
    ("POST", "/compose/check?full=1", {"accounts": "{account}", "media": "{media}"}, {200}),
    ("POST", "/compose/check?panel={account}", {"accounts": "{account}"}, {200}),
    (
        "POST",
        "/compose/",
        {"post_id": "{post}", "caption": "hijacked", "action": "save_draft"},
        {404},
    ),
    (
        "POST",
        "/compose/",
        {
            "accounts": "{account}",
            "media": "{media}",
            "caption": "hijacked",
            "a{account}-privacy": "PUBLIC_TO_EVERYONE",
            "action": "post_now",
        },
        {422},
    ),
    ("POST", "/notifications/read", {}, {303}),
    ("GET", "/notifications/", {}, {200}),
    ("GET", "/posts/", {}, {200}),
    ("GET", "/calendar/", {"date": "{day}"}, {200}),
    ("GET", "/calendar/", {"date": "{day}", "view": "week"}, {200}),
    ("GET", "/media/", {}, {200}),
    ("GET", "/accounts/", {}, {200}),
    ("GET", "/", {}, {200}),
]


def test_ids_in_forms_and_query_strings_are_checked_too(world):
    # One world for the whole table: every row is a read or a refusal, checked after each row.
    mine = world.alice
    ids = {
        "account": mine.account.id,
        "media": mine.media.id,
        "post": mine.post.id,
        "day": mine.post.scheduled_at.date().isoformat(),
    }
    bob = world.bob_client
    token = csrf_token(bob, "/")
    before = _snapshot(world)
    problems = []
    for method, path, fields, expected in INDIRECT:
        url = path.format(**ids)
        values = {k.format(**ids): v.format(**ids) for k, v in fields.items()}
        if method == "GET":
            reply = bob.get(url, query_string=values)
        else:
            reply = bob.post(url, data={**values, "csrf_token": token})
        if reply.status_code not in expected:
            problems.append(f"{method} {url} {values}: {reply.status_code}")
        if [s for s in _alice_data(world) if s in reply.get_data()]:
            problems.append(f"{method} {url} {values}: shows Alice's data")
        if _snapshot(world) != before:
            problems.append(f"{method} {url} {values}: changed Alice's data")
            before = _snapshot(world)
    assert not problems
    assert Notification.get_by_id(world.notice.id).read_at is None


# --- the documented exception ---------------------------------------------------------------------


def test_admin_exceptions_are_exactly(world, app):
    """Admins open every post; members' accounts, media and edits stay their owners' alone."""
    make_user("root@example.com", "admin", name="Ada Admin")
    admin = app.test_client()
    assert login(admin, "root@example.com").status_code == 303
    before = _snapshot(world)
    for rule in IDOR_RULES:
        if "GET" not in rule.methods:
            continue
        status = admin.get(_address(rule, world.alice)).status_code
        if rule.endpoint in ADMIN_SEES_EVERY_POST or rule.endpoint.startswith("admin."):
            assert status in (200, 303), (rule.endpoint, status)
        else:
            assert status == 404, (rule.endpoint, status)
    assert _snapshot(world) == before
