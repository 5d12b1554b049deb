"""Walk the url map: every route whose address names something of a workspace (the workspace
itself, an account, a post, a post target, a media file) or a user refuses a member of another
workspace, changes nothing, and shows nothing of it; its owner gets the page (so the refusals
mean something). Bob is refused with Alice's workspace in the address, and with his own
workspace and Alice's ids: an object opens only in its own workspace.

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
from flask.testing import FlaskClient

from tests import accounts_flow as flow
from tests.conftest import (
    WorkspaceClient,
    csrf_token,
    ffmpeg_clip,
    ffmpeg_image,
    home,
    login,
    make_user,
)
from tests.test_publishing import make_post
from tests.test_routes_security import ALL_RULES, PUBLIC_ENDPOINTS, STATE_CHANGING, _id
from webapp.media.storage import frame_path, store
from webapp.mediafacts import probe
from webapp.models import (
    Account,
    Invitation,
    Media,
    Membership,
    Notification,
    Post,
    PostEvent,
    PostMedia,
    PostTarget,
    User,
    Workspace,
    utcnow,
)
from webapp.workspaces import invitations

# Alice's words start with a tag found nowhere else, so even a shortened caption gives her away.
TAG = "zq4417"
CAPTION = f"{TAG} Alice's private caption"
MEDIA_NAME = f"{TAG}-holiday.mp4"
NOTICE = f"{TAG} Alice-only notice"
# Rows a stranger's request must leave exactly as they were (the singletons are installation-wide).
OWNED_TABLES = [
    User,
    Workspace,
    Membership,
    Invitation,
    Account,
    Media,
    Post,
    PostMedia,
    PostTarget,
    PostEvent,
    Notification,
]


@dataclass
class Holdings:
    """What one member has in their workspace: a connected account, a video with a cover frame,
    a post of it."""

    user: User
    ws: str  # the workspace's slug
    account: Account
    media: Media
    post: Post
    target: PostTarget
    frame_ms: int
    invitation: Invitation | None = None  # an open invitation to the workspace


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
    "ws": lambda h: h.ws,
    "account_id": lambda h: h.account.id,
    "post_id": lambda h: h.post.id,
    "target_id": lambda h: h.target.id,
    "media_id": lambda h: h.media.id,
    # A member of the workspace (her role, removing her); admin routes refuse members outright.
    "user_id": lambda h: h.user.id,
    "invitation_id": lambda h: h.invitation.id,
}
# Route arguments that name nothing a member owns: a value that makes the route work for Alice.
PLAIN_ARGS = {
    "ms": lambda h: h.frame_ms,  # a time within the video, only meaningful with media_id
    # Queue jobs are installation-wide and only admins see them (test_routes_security checks 403).
    "job_id": lambda h: "health-ping-0",
}
# The short addresses from before workspaces (/posts/12, ...): what follows the prefix names an
# object, and the app leads there only a member of the object's workspace (404 for others).
LEGACY_REST = {
    "workspaces.legacy_posts": lambda h: str(h.post.id),
    "workspaces.legacy_compose": lambda h: f"{h.post.id}/edit",
    "workspaces.legacy_media": lambda h: f"{h.media.id}/file",
    "workspaces.legacy_accounts": lambda h: f"{h.account.id}/disconnect",
}
# These name nothing after the prefix: they lead into the person's own workspace.
LEGACY_PLAIN = {"workspaces.legacy_calendar", "workspaces.legacy_notifications"}
# Routes outside the session's ownership rules, and why.
EXEMPT = {
    # A signed, expiring, unguessable address for TikTok's PULL_FROM_URL; no session at all
    # (the signature is tested in test_publishing).
    "pull.serve": "signed capability URL",
    # An invitation's unguessable single-use secret admits whoever holds it, signed in or not
    # (expired, used and tampered links: tests/test_workspaces.py).
    "invitations.accept": "single-use invitation secret",
}
# Documented exception: instance admins act as managers in every workspace
# (webapp.workspaces.members.role_of), so they open everything of Alice's in her workspace;
# there as elsewhere an object opens only in its own workspace.

IDOR_RULES = [
    r
    for r in ALL_RULES
    if r.endpoint not in EXEMPT
    and (set(r.arguments) & set(OWNED_ARGS) or "rest" in r.arguments and r.endpoint in LEGACY_REST)
]


def _send(browser, url: str, method: str = "GET", **kw):
    """Send the request to url as addressed (the world's browsers otherwise follow a short
    path's lead into a workspace first, like the pages a person would click through)."""
    return FlaskClient.open(browser, url, method=method, **kw)


def _owned(rule) -> list[str]:
    return [arg for arg in rule.arguments if arg in OWNED_ARGS or arg == "rest"]


def _methods(rule) -> list[str]:
    # Reads first: the owner's positive control must see the object before any POST acts on it.
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    return [m for m in methods if m not in STATE_CHANGING] + [
        m for m in methods if m in STATE_CHANGING
    ]


def _address(rule, alice: Holdings, bob: Holdings | None = None, bobs=()) -> str:
    """Build rule's address from Alice's things, except for the arguments in bobs."""
    factories = {**OWNED_ARGS, **PLAIN_ARGS, "rest": LEGACY_REST.get(rule.endpoint)}
    values = {arg: factories[arg](bob if arg in bobs else alice) for arg in rule.arguments}
    return rule.build(values)[1]


def _addresses(rule, world: World) -> list[str]:
    """Return the address of Alice's object, then, when the address names several objects,
    every mix of hers and Bob's (his workspace with her post, her workspace with his post,
    Bob's post with her target, and so on)."""
    owned = _owned(rule)
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
    reply = flow.connect(client, creator=creator)
    assert reply.status_code == 200, reply.get_data(as_text=True)[-2000:]
    account = Account.get((Account.owner == user.id) & (Account.username == creator))
    workspace = Workspace.get_by_id(home(user))
    assert account.workspace_id == workspace.id
    with app.app_context():
        # The upload's own storage step (the probe is the same for every copy, so done once).
        media = store(clip, name, user.id, facts=facts, workspace_id=workspace.id)
        frame_ms = media.duration_ms // 2
        frame_path(media, frame_ms).parent.mkdir(parents=True, exist_ok=True)
        frame_path(media, frame_ms).write_bytes(frame)
    assert media.status == "ready", media.problems
    post, target = make_post(user, account, media, caption=caption)
    post.scheduled_at = utcnow() + dt.timedelta(days=300)  # far off: nothing picks it up
    post.save()
    with app.app_context():
        invited = invitations.invite(workspace, f"guest-of-{creator}@example.com", "viewer", user)
    return Holdings(
        user, workspace.slug, account, media, post, target, frame_ms, invited.invitation
    )


@pytest.fixture
def world(app, db, tiktok, settings, footage) -> World:
    """Give Alice (in her own workspace) a connected account, a video with a cover frame, a
    scheduled post and a notification; sign in Alice and Bob (a member of his own workspace
    only) in their own browsers."""
    alice_user = make_user("alice@example.com", name="Alice Owner")
    bob_user = make_user("bob@example.com", name="Bob Stranger")
    # Short paths (the OAuth flow's /accounts/...) lead into each one's workspace.
    alice_client, bob_client = (WorkspaceClient(app, app.response_class) for _ in range(2))
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
        user=alice_user,
        workspace=alice.post.workspace_id,
        kind="post_failed",
        message=NOTICE,
        link=f"/w/{alice.ws}/posts/",
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
    legacy = set(LEGACY_REST) | LEGACY_PLAIN
    unknown = sorted(
        f"{r.endpoint} <{arg}>"
        for r in ALL_RULES
        if r.endpoint not in EXEMPT
        for arg in r.arguments
        if arg not in known and not (arg == "rest" and r.endpoint in legacy)
    )
    assert not unknown, (
        "routes with arguments this test can't fill; add a factory to OWNED_ARGS "
        f"(an owned object) or PLAIN_ARGS: {unknown}"
    )
    assert set(EXEMPT) <= PUBLIC_ENDPOINTS  # only public routes may skip ownership
    assert {r.endpoint for r in ALL_RULES} >= set(EXEMPT) | legacy


def test_the_map_has_owned_object_routes():
    endpoints = {r.endpoint for r in IDOR_RULES}
    assert len(IDOR_RULES) >= 30
    for arg in OWNED_ARGS:
        assert any(arg in r.arguments for r in IDOR_RULES), f"no route takes <{arg}> any more"
    assert {"accounts.disconnect", "media.file", "posts.retry", "composer.edit"} <= endpoints
    assert {"dashboard.index", "posts.index", "posts.calendar_view", "media.index"} <= endpoints
    assert set(LEGACY_REST) <= endpoints


# --- a stranger is refused, changes nothing, sees nothing ----------------------------------------


@pytest.mark.parametrize("rule", IDOR_RULES, ids=_id)
def test_another_member_is_refused_and_changes_nothing(world, rule):
    addresses = _addresses(rule, world)
    bob = world.bob_client
    bob_ws = Workspace.get_by_id(home(User.get(User.email == "bob@example.com"))).slug
    token = csrf_token(bob, "/")
    before = _snapshot(world)
    secrets = _alice_data(world)
    # Admin routes refuse members outright; everything else looks like it doesn't exist.
    refusal = 403 if rule.endpoint.startswith("admin.") else 404
    outside = NOT_FOUND_AS.get(rule.endpoint, refusal)  # his own workspace, her ids
    for url in addresses:
        for method in _methods(rule):
            data = {"csrf_token": token} if method in STATE_CHANGING else None
            reply = _send(bob, url, method, data=data)
            expected = outside if url.startswith(f"/w/{bob_ws}/") else refusal
            assert reply.status_code == expected, (method, url, reply.status_code)
            seen = reply.get_data() + str(reply.headers).encode("latin-1")
            assert not [s for s in secrets if s in seen], (method, url)
    assert _snapshot(world) == before, f"{rule.endpoint}: Bob's requests changed Alice's data"
    assert _alice_token_still_works(world)
    # Positive control: the same address works for its owner, reads before writes.
    if rule.endpoint.startswith("admin."):
        return  # Alice is a member too; the admin's side is test_admin_exceptions_are_exactly
    for method in _methods(rule):
        data = {"csrf_token": csrf_token(world.alice_client, "/")} if method != "GET" else None
        reply = _send(world.alice_client, addresses[0], method, data=data)
        status = reply.status_code
        assert status in _works_for_alice(rule), (method, addresses[0], status)
        if method == "GET" and reply.status_code == 200:
            assert reply.get_data(), addresses[0]


# Statuses that still show the view ran for Alice on her own address (it found what it names).
ALICE_ALSO = {
    "workspace.member_role": {422},  # an empty form: the page asks her to choose a role
    "workspace.member_remove": {409},  # she is her workspace's only manager: refused, with why
    "workspace.delete": {409},  # it has a connected account and a scheduled post: refused
}
# Routes that refuse another workspace's object with something other than 404, and why that
# tells Bob nothing: the answer is the same for an id that doesn't exist.
NOT_FOUND_AS = {
    # "This invitation is no longer open" for any id not open in this workspace: another
    # workspace's, a used or expired one, or none at all (webapp.workspaces.invitations.revoke).
    "workspace.invitation_revoke": 422,
}


def _works_for_alice(rule) -> set[int]:
    """Return the statuses that show rule's view ran for Alice with her own things."""
    if rule.endpoint in LEGACY_REST:
        return {302, 307}  # led into her workspace
    if rule.endpoint in ALICE_ALSO:
        return {200, 303} | ALICE_ALSO[rule.endpoint]
    if _owned(rule) == ["ws"]:
        # Only the workspace is named: an empty form is refused by the view itself (400, 422),
        # and connecting sends her on to TikTok (302); a refusal by role would be 403.
        return {200, 302, 303, 400, 422}
    return {200, 303}


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

# (method, path, form or query, expected statuses), sent by Bob in his own workspace ({ws});
# {account}, {media}, {post} are Alice's ids, {day} the day her post is scheduled for (so the
# calendar opens where it would show).
INDIRECT = [
    ("GET", "/w/{ws}/accounts/add", {"reconnect": "{account}"}, {404}),
    ("GET", "/w/{ws}/accounts/connect/tiktok", {"reconnect": "{account}"}, {404}),
    ("GET", "/w/{ws}/compose/", {"accounts": "{account}", "media": "{media}"}, {200}),
    ("POST", "/w/{ws}/compose/check", {"accounts": "{account}", "media": "{media}"}, {200}),
    (
        "POST",
        "/w/{ws}/compose/check?full=1",
        {"accounts": "{account}", "media": "{media}"},
        {200},
    ),
    ("POST", "/w/{ws}/compose/check?panel={account}", {"accounts": "{account}"}, {200}),
    (
        "POST",
        "/w/{ws}/compose/",
        {"post_id": "{post}", "caption": "hijacked", "action": "save_draft"},
        {404},
    ),
    (
        "POST",
        "/w/{ws}/compose/",
        {
            "accounts": "{account}",
            "media": "{media}",
            "caption": "hijacked",
            "a{account}-privacy": "PUBLIC_TO_EVERYONE",
            "action": "post_now",
        },
        {422},
    ),
    ("POST", "/w/{ws}/notifications/read", {}, {303}),
    ("GET", "/w/{ws}/notifications/", {}, {200}),
    ("GET", "/w/{ws}/posts/", {}, {200}),
    ("GET", "/w/{ws}/calendar/", {"date": "{day}"}, {200}),
    ("GET", "/w/{ws}/calendar/", {"date": "{day}", "view": "week"}, {200}),
    ("GET", "/w/{ws}/media/", {}, {200}),
    ("GET", "/w/{ws}/accounts/", {}, {200}),
    ("GET", "/w/{ws}/", {}, {200}),
]


def test_ids_in_forms_and_query_strings_are_checked_too(world):
    # One world for the whole table: every row is a read or a refusal, checked after each row.
    mine = world.alice
    ids = {
        "account": mine.account.id,
        "media": mine.media.id,
        "post": mine.post.id,
        "day": mine.post.scheduled_at.date().isoformat(),
        "ws": Workspace.get_by_id(home(User.get(User.email == "bob@example.com"))).slug,
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
    """Instance admins act as managers in Alice's workspace and open everything of hers there;
    in another workspace (their own) her ids lead nowhere, as for everyone."""
    root = make_user("root@example.com", "admin", name="Ada Admin")
    admin = WorkspaceClient(app, app.response_class)
    assert login(admin, "root@example.com").status_code == 303
    theirs = Holdings(root, Workspace.get_by_id(home(root)).slug, *[None] * 5)
    before = _snapshot(world)
    for rule in IDOR_RULES:
        if "GET" not in rule.methods:
            continue
        status = _send(admin, _address(rule, world.alice)).status_code
        assert status in _works_for_alice(rule), (rule.endpoint, status)
        if "ws" in rule.arguments and len(_owned(rule)) > 1:
            elsewhere = _send(admin, _address(rule, world.alice, theirs, ("ws",))).status_code
            assert elsewhere == 404, (rule.endpoint, elsewhere)
    assert _snapshot(world) == before
