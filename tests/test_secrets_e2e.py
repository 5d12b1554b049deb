"""One connect → publish → refresh → disconnect round trip against the sandbox over real HTTP, with
everything Cadence says along the way kept: the web process's logs at DEBUG, a real worker's
output at DEBUG, the sandbox's log, every response the browser receives (headers and cookies
too), every key in Redis (RQ payloads, results and tracebacks unpacked) and every database row.
None of it may carry an access token, a refresh token or the client secret, plain or encoded.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import zipfile
import zlib
from urllib.parse import quote, quote_plus

import pytest
import redis as redis_lib
import requests

import jobs
from jobs.upkeep import REFRESH_AHEAD, refresh_expiring
from sandbox.runner import ROOT, SandboxProcess
from tests import accounts_flow as flow
from tests.conftest import csrf_token, post_form
from tests.test_publishing import add_media, worker_env
from tests.test_routes_security import ALL_RULES
from webapp.models import MODELS, Account, Post, PostTarget, TikTokService, utcnow

# Run once, not in both passes: what is checked is the text every log, page, file and Redis key
# holds, and no secret passes through an engine-specific path (both engines store the encrypted
# column the same way, which the per-engine tests of webapp.secrets already cover).
pytestmark = pytest.mark.engine_independent

CLIENT_SECRET = "sbx_demo_client_secret"
# A burst worker as `python -m jobs.worker --burst` runs it, but logging everything at DEBUG
# (the worker's own basicConfig then finds the root logger configured and leaves it).
WORKER = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s')\n"
    "from jobs.worker import main\n"
    "sys.exit(main(['--burst', '--workers', '1']))\n"
)
# Every page without an address argument, walked after each step (new pages join by themselves).
# Leaving out only what would end the session.
PAGES = sorted(
    r.rule for r in ALL_RULES if "GET" in r.methods and not r.arguments and r.rule != "/logout"
)
LARGEST_UNPACKED = 8 * 1024**2  # don't dig into blobs bigger than this (none are, today)


@pytest.fixture
def sandbox(tmp_path):
    """A sandbox of this test's own whose state file lists every token it ever issued
    (overrides conftest's shared one, so `tiktok` points Cadence at this one)."""
    env = {"SANDBOX_PROCESSING_SECONDS": "0.3", "SANDBOX_MODERATION_SECONDS": "0.3"}
    with SandboxProcess(env=env, state_file=tmp_path / "sandbox-state.json") as server:
        yield server


class _Keep(logging.Handler):
    """Keep every record in full: the formatted line, its traceback, and its raw fields."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + "\n" + repr(vars(record)))


@pytest.fixture
def root_log(caplog):
    """Send everything logged in this process, from DEBUG up, to a keeping handler (and caplog)."""
    handler = _Keep()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def _keep_pages(client) -> list[tuple[str, bytes, bytes]]:
    """Make client keep every response it receives (redirects followed included): where it
    came from, its status and headers (cookies, Location), and its body."""
    pages: list[tuple[str, bytes, bytes]] = []
    opened = client.open

    def open_and_keep(*args, **kwargs):
        response = opened(*args, **kwargs)
        where = f"{response.request.method} {response.request.full_path}"
        head = f"{response.status}\n{response.headers}".encode()
        pages.append((where, head, response.get_data()))
        return response

    client.open = open_and_keep
    return pages


# --- looking for secrets --------------------------------------------------------------------------


def _forms(secret: str) -> set[bytes]:
    """Return the ways secret could be written down: plain, escaped, urlencoded, hex, base64
    (at each of the three alignments it can have inside a longer base64 text)."""
    raw = secret.encode()
    forms = {
        raw,
        quote(secret, safe="").encode(),
        quote_plus(secret).encode(),
        html.escape(secret).encode(),
        json.dumps(secret)[1:-1].encode(),
        raw.hex().encode(),
    }
    for skip in range(3):
        core = raw[skip:]
        core = core[: len(core) - len(core) % 3]
        forms |= {base64.b64encode(core), base64.urlsafe_b64encode(core)}
    return forms


_B64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _layers(blob: bytes, depth: int = 0):
    """Yield blob and whatever it unpacks to: zlib (RQ's job data and tracebacks), base64 (RQ's
    results, signed cookies), zip members, PDF streams, down to three layers."""
    yield blob
    if depth == 3 or len(blob) > LARGEST_UNPACKED:
        return
    inner: list[bytes] = []
    with contextlib.suppress(zlib.error):
        inner.append(zlib.decompress(blob, 47))  # zlib or gzip
    if blob.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            inner += [archive.read(name) for name in archive.namelist()]
    if blob.startswith(b"%PDF"):
        inner += _PDF_STREAM.findall(blob)
    for run in _B64_RUN.findall(blob):
        text = run.rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
        for cut in range(len(text) % 4 + 1):
            piece = text[: len(text) - cut]
            if len(piece) % 4 != 1:
                inner.append(base64.b64decode(piece + b"=" * (-len(piece) % 4)))
                break
    for item in inner:
        if item and item != blob:
            yield from _layers(item, depth + 1)


def _leaks(secrets: dict[str, str], haystacks: dict[str, bytes]) -> list[str]:
    """Return 'which secret in which place' for every secret found in any layer of any blob."""
    patterns = {
        name: re.compile(b"|".join(re.escape(f) for f in _forms(value)))
        for name, value in secrets.items()
    }
    found = []
    for where, blob in haystacks.items():
        for layer in _layers(blob):
            found += [f"{name} in {where}" for name, p in patterns.items() if p.search(layer)]
    return sorted(set(found))


def _redis_dump(connection: redis_lib.Redis) -> dict[str, bytes]:
    """Return every key of the test's Redis DB and every value inside it, whatever its type."""
    out = {}
    for key in connection.scan_iter(count=500):
        kind = connection.type(key).decode()
        if kind == "string":
            parts = [connection.get(key)]
        elif kind == "hash":
            parts = [x for pair in connection.hgetall(key).items() for x in pair]
        elif kind == "list":
            parts = connection.lrange(key, 0, -1)
        elif kind == "set":
            parts = sorted(connection.smembers(key))
        elif kind == "zset":
            parts = [member for member, _ in connection.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            parts = [
                x for _, fields in connection.xrange(key) for pair in fields.items() for x in pair
            ]
        elif kind == "none":
            continue  # expired between SCAN and TYPE
        else:
            pytest.fail(f"Redis key {key!r} has a type this test doesn't read: {kind}")
        for index, part in enumerate([key, *parts]):
            out[f"redis {key.decode(errors='replace')} [{index}]"] = part or b""
    return out


def _db_dump(database) -> dict[str, bytes]:
    """Return every row of every table, as stored."""
    out = {}
    for model in MODELS:
        table = model._meta.table_name
        rows = database.execute_sql(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608 - ours
        out[f"db {table}"] = json.dumps(rows, default=str).encode()
    return out


def _sandbox_log(sandbox) -> bytes:
    # pread leaves the file offset alone: the sandbox process shares it and keeps writing.
    fd = sandbox.log.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0)


def _run_worker(settings: dict) -> bytes:
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=worker_env(settings),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done.stdout + b"\n" + done.stderr


def _stored_tokens(database) -> tuple[str, str]:
    """Return the account's tokens, after checking that the database holds them (and the client
    secret) only encrypted."""
    access_enc, refresh_enc = database.execute_sql(
        "SELECT access_token_enc, refresh_token_enc FROM account"
    ).fetchone()
    secret_enc = database.execute_sql("SELECT client_secret_enc FROM tiktok_service").fetchone()[0]
    account = Account.get()
    access, refresh = account.access_token(), account.refresh_token()
    assert access.startswith("act.") and refresh.startswith("rft.")
    assert TikTokService.load().client_secret() == CLIENT_SECRET
    plain = {"access": access, "refresh": refresh, "client secret": CLIENT_SECRET}
    stored = {"access": access_enc, "refresh": refresh_enc, "client secret": secret_enc}
    assert not _leaks(plain, {column: value.encode() for column, value in stored.items()})
    return access, refresh


def test_the_search_finds_what_it_looks_for():
    token = "act.Zx-9_tokenvalue-0123456789abcdef"
    hidden = {
        "plain": f"Bearer {token}".encode(),
        "urlencoded": f"a=1&t={quote(token, safe='')}".encode(),
        "zlib": zlib.compress(f"xx{token}yy".encode()),
    }
    for offset in range(3):
        blob = base64.b64encode(b"p" * offset + token.encode() + b"tail")
        hidden[f"base64 at {offset}"] = blob
        hidden[f"zlib in base64 at {offset}"] = base64.urlsafe_b64encode(
            zlib.compress(b"q" * offset + token.encode())
        )
    found = _leaks({"t": token}, hidden)
    assert found == sorted(f"t in {where}" for where in hidden)
    assert _leaks({"t": token}, {"other": b"act.Zx-9_tokenvalue-012345678"}) == []


def test_no_token_or_client_secret_leaks_anywhere(
    app, db, admin_client, tiktok, settings, root_log, caplog, tmp_path
):
    client = admin_client
    pages = _keep_pages(client)
    worker_output: list[bytes] = []
    snapshots: dict[str, bytes] = {}
    state_file = tmp_path / "sandbox-state.json"
    redis = redis_lib.Redis.from_url(settings["REDIS_URL"])
    service = TikTokService.load()
    service.audited = True  # Direct Post to a public creator
    service.save()

    def walk(step: str, extra: list[str]) -> None:
        """Open every page (and this step's pages about the account and post); keep the state."""
        for path in PAGES + extra:
            assert client.get(path).status_code < 500, path
        client.get("/accounts/add", headers={"HX-Request": "true"})
        snapshots.update({f"{step}: {k}": v for k, v in _redis_dump(redis).items()})
        snapshots.update({f"{step}: {k}": v for k, v in _db_dump(db).items()})

    # Connect.
    since = time.time()
    done = flow.connect(client)
    assert "@maya.rivers is connected." in done.get_data(as_text=True)
    client.get("/accounts/connect/wait", query_string={"since": since})
    account = Account.get()
    first = _stored_tokens(db)
    about_account = [
        f"/accounts/{account.id}/disconnect",
        f"/accounts/add?reconnect={account.id}",
        f"/compose/?accounts={account.id}",
        f"/admin/users/{account.owner_id}/deactivate",
    ]
    walk("connected", about_account)

    # Publish from the composer; a real worker (in bursts) uploads and polls TikTok.
    media = add_media(account.owner, settings)
    composed = client.post(
        "/compose/",
        data={
            "accounts": str(account.id),
            "post_type": "video",
            "media": str(media.id),
            "caption": "Secrets stay secret",
            f"a{account.id}-privacy": "PUBLIC_TO_EVERYONE",
            "action": "post_now",
            "csrf_token": csrf_token(client, "/compose/"),
        },
    )
    assert composed.status_code == 303, composed.get_data(as_text=True)
    post = Post.get()
    about_post = [f"/posts/{post.id}", f"/posts/{post.id}/status"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        worker_output.append(_run_worker(settings))
        target = PostTarget.get()
        if target.status != "publishing" and target.phase != "moderation":
            break
        time.sleep(0.3)  # the sandbox processes and moderates in 0.3 s each (conftest)
    assert (target.status, target.phase) == ("published", ""), target.error_message
    assert target.publicaly_available_post_id
    walk("published", about_account + about_post)

    # Refresh in the worker (the periodic job, for a token about to expire)...
    soon = utcnow() + REFRESH_AHEAD / 6
    Account.update(access_token_expires_at=soon).where(Account.id == account.id).execute()
    jobs.enqueue(redis, refresh_expiring, job_id="refresh-now")
    worker_output.append(_run_worker(settings))
    second = _stored_tokens(db)
    assert second[0] != first[0] and second[1] != first[1]
    walk("refreshed by the worker", about_account + about_post)

    # ...and in the web process (TikTok forgot the token; Check refreshes once and asks again).
    tiktok.control("expire-access-token", {"access_token": second[0]})
    checked = post_form(
        client, f"/accounts/{account.id}/check", token_from="/accounts/", follow_redirects=True
    )
    assert "@maya.rivers can post." in checked.get_data(as_text=True)
    third = _stored_tokens(db)
    assert third[0] not in (first[0], second[0]) and third[1] not in (first[1], second[1])
    walk("refreshed by the web app", about_account + about_post)

    # Disconnect: revoked at TikTok, deleted here.
    gone = post_form(client, f"/accounts/{account.id}/disconnect", follow_redirects=True)
    assert "@maya.rivers is disconnected" in gone.get_data(as_text=True)
    assert db.execute_sql("SELECT access_token_enc, refresh_token_enc FROM account").fetchone() == (
        None,
        None,
    )
    revoked = requests.get(
        f"{tiktok.url}/v2/user/info/?fields=open_id",
        headers={"Authorization": f"Bearer {third[0]}"},
        timeout=10,
    )
    assert revoked.json()["error"]["code"] == "access_token_invalid"
    walk("disconnected", about_post)

    # Every token the sandbox issued, from its own records: one pair per grant.
    issued = json.loads(state_file.read_text())
    grants = [(c["grant_type"], c["result"]) for c in issued["token_calls"]]
    assert grants == [
        ("authorization_code", "ok"),
        ("refresh_token", "ok"),
        ("refresh_token", "ok"),
    ]
    access_tokens, refresh_tokens = list(issued["access"]), list(issued["refresh"])
    assert len(access_tokens) == len(refresh_tokens) == 3
    assert {first[0], second[0], third[0]} == set(access_tokens)
    assert {first[1], second[1], third[1]} == set(refresh_tokens)
    secrets = {f"access token {i + 1}": t for i, t in enumerate(access_tokens)}
    secrets |= {f"refresh token {i + 1}": t for i, t in enumerate(refresh_tokens)}
    secrets["client secret"] = CLIENT_SECRET

    haystacks = dict(snapshots)
    for i, (where, head, body) in enumerate(pages):
        haystacks |= {f"page {i} {where} (head)": head, f"page {i} {where}": body}
    haystacks |= {f"log {i}": line.encode() for i, line in enumerate(root_log.lines)}
    haystacks |= {"caplog": caplog.text.encode()}
    haystacks |= {f"worker run {i}": out for i, out in enumerate(worker_output)}
    haystacks |= {"sandbox log": _sandbox_log(tiktok)}
    haystacks |= {f"final: {k}": v for k, v in _redis_dump(redis).items()}

    # The places were really searched: each holds something of the round trip.
    assert len(pages) > 4 * len(PAGES) and len(root_log.lines) > 50
    assert any(b"client_key=sbx_demo_client_key" in head for _, head, _ in pages)  # a Location
    assert any(b"Set-Cookie: cadence_session=" in head for _, head, _ in pages)
    assert any(
        b"jobs.publishing.publish_target" in layer
        for where, blob in haystacks.items()
        if where.startswith("published: redis rq:job:publish-")
        for layer in list(_layers(blob))[1:]  # only once unpacked
    )
    assert any(where.startswith("final: redis rq:results:refresh-now") for where in haystacks)
    assert b"POST /v2/oauth/token/" in haystacks["sandbox log"]
    assert all(b"rq.worker" in out for out in worker_output)

    assert _leaks(secrets, haystacks) == []
