"""Shared fixtures: the real app factory, a real database (SQLite file or PostgreSQL), real Redis.

Choose the engine with CADENCE_TEST_DB=sqlite|postgresql (`make test` runs both);
PostgreSQL comes from TEST_DATABASE_URL, Redis from TEST_REDIS_URL (a dedicated DB index,
flushed before every test; xdist worker gwN uses that index + N).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import peewee as pw
import pytest
import redis as redis_lib
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings

from webapp import create_app
from webapp import db as dbmod
from webapp.models import MODELS

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ENGINE = os.environ.get("CADENCE_TEST_DB", "sqlite")
# pytest-xdist names its workers gw0, gw1, ...; a plain run is slot 0.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
SLOT = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0


def redis_url_for_worker(base_url: str, slot: int) -> str:
    """Return base_url with its DB index moved up by slot (xdist worker gwN gets base + N)."""
    match = re.fullmatch(r"(redis://[^/]+)/(\d+)", base_url)
    if not match:
        raise ValueError(f"TEST_REDIS_URL must end in a DB index like /8, not {base_url!r}")
    index = int(match.group(2)) + slot
    # DB 0 is what the app uses by default, and Redis has 16 DBs (0..15).
    if not 1 <= index <= 15:
        raise ValueError(
            f"worker {slot} of TEST_REDIS_URL={base_url} would use Redis DB {index}; "
            "pick a base index so that base + workers - 1 stays within 1..15"
        )
    return f"{match.group(1)}/{index}"


# Every test process gets its own Redis DB index, PostgreSQL schema and folders, so no test can
# flush or drop another's data: several checkouts (each its own TEST_REDIS_URL and
# CADENCE_TEST_PG_SCHEMA), the two passes of `make test` running at the same time (the schema
# names the engine; scripts/run_tests.py gives each pass its own Redis range) and the xdist
# workers within a pass (the worker id moves the index and names the schema). Folders come from
# tmp_path, which xdist already keeps per worker; ports are always picked free by the OS.
TEST_REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/8")
try:
    TEST_REDIS_URL = redis_url_for_worker(TEST_REDIS_BASE_URL, SLOT)
    REDIS_URL_PROBLEM = ""
except ValueError as exc:
    TEST_REDIS_URL, REDIS_URL_PROBLEM = "", str(exc)
PG_SCHEMA = "_".join(
    part
    for part in (
        os.environ.get("CADENCE_TEST_PG_SCHEMA", "cadence_test"),
        "pg" if ENGINE == "postgresql" else "lite",
        WORKER,
    )
    if part
)
# Hypothesis: one profile per pass, named after the engine unless CADENCE_HYPOTHESIS_PROFILE
# names one. max_examples is the share (in %) of each fuzz test's examples the pass runs
# (tests/test_fuzz_forms.py `fuzz`): the PostgreSQL pass runs a third, because the SQLite pass
# already checks every saved value against PostgreSQL's column rules (assert_storable).
hypothesis_settings.register_profile("sqlite", max_examples=100)
hypothesis_settings.register_profile("postgresql", max_examples=34)
hypothesis_settings.load_profile(os.environ.get("CADENCE_HYPOTHESIS_PROFILE") or ENGINE)
SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"


def postgres_url(schema: str = PG_SCHEMA) -> str:
    """Return TEST_DATABASE_URL pinned to a dedicated schema."""
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    return f"{TEST_DATABASE_URL}{sep}options=-c%20search_path%3D{schema}"


def postgres_available() -> bool:
    """Tell whether PostgreSQL answers at TEST_DATABASE_URL."""
    try:
        database = dbmod.open_database(TEST_DATABASE_URL)
        database.connect()
        database.close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def reset_postgres_schema(schema: str) -> None:
    """Drop and recreate a PostgreSQL schema."""
    database = dbmod.open_database(TEST_DATABASE_URL)
    with database.connection_context():
        database.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        database.execute_sql(f'CREATE SCHEMA "{schema}"')


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Return the Redis URL of the test DB index, after checking Redis answers."""
    if REDIS_URL_PROBLEM:
        pytest.exit(REDIS_URL_PROBLEM, 2)
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except redis_lib.ConnectionError:
        pytest.exit(f"Redis does not answer at {TEST_REDIS_URL}; start redis-server first", 2)
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Create and migrate the session's database once; return its URL."""
    if ENGINE == "postgresql":
        if not postgres_available():
            pytest.exit(f"CADENCE_TEST_DB=postgresql but nothing answers at {TEST_DATABASE_URL}", 2)
        reset_postgres_schema(PG_SCHEMA)
        url = postgres_url()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cadence.sqlite3'}"
    database = dbmod.open_database(url)
    dbmod.migrate(database)
    return url


def _dirty_tables(database: pw.Database) -> tuple[set[str], set[str]]:
    """Return the tables holding rows and (PostgreSQL) the id sequences that moved, in one read."""
    postgres = isinstance(database, pw.PostgresqlDatabase)
    parts = []
    for model in MODELS:
        table = model._meta.table_name
        moved = "false"
        if postgres and isinstance(model._meta.primary_key, pw.AutoField):
            # serial's sequence; is_called turns false again on RESTART.
            moved = f'(SELECT is_called FROM "{table}_id_seq")'  # noqa: S608 - our names
        parts.append(
            f"SELECT '{table}', EXISTS (SELECT 1 FROM \"{table}\"), {moved}"  # noqa: S608
        )
    rows = database.execute_sql(" UNION ALL ".join(parts)).fetchall()
    return {t for t, rows_, _ in rows if rows_}, {t for t, _, moved in rows if moved}


def _empty_tables(database: pw.Database) -> None:
    """Give the test empty tables (and, on PostgreSQL, ids counting from 1 again).

    Most tests write to a few tables only, so only those are emptied: one read finds them, and
    a test that wrote nothing costs no write at all. On PostgreSQL, DELETE plus a sequence
    restart costs a fraction of a TRUNCATE of all twelve tables (~85 ms a test, measured); the
    restart also covers a table a test filled and emptied itself.
    """
    tables = [m._meta.table_name for m in MODELS]
    with database.connection_context():
        dirty, moved = _dirty_tables(database)
        if not dirty and not moved:
            return
        with database.atomic():
            for table in reversed(tables):  # children before parents (MODELS is in that order)
                if table in dirty:
                    database.execute_sql(f'DELETE FROM "{table}"')  # noqa: S608 - our names
            for table in moved:
                database.execute_sql(f'ALTER SEQUENCE "{table}_id_seq" RESTART')


@pytest.fixture
def settings(database_url, redis_url, tmp_path) -> dict:
    """Return the config mapping for a test app on a clean database and Redis."""
    redis_lib.Redis.from_url(redis_url).flushdb()
    return {
        "APP_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PUBLIC_URL": "https://cadence.example.com",
        # Uploads are checked in the request here; tests of the media job set "queue" and run a
        # real worker burst (tests/test_media_checks.py).
        "MEDIA_CHECKS": "inline",
        # One PBKDF2 round instead of scrypt (~0.1 s per hash): fixtures create users for most
        # tests. Only APP_ENV=test honours this; test_production_hashes_passwords_with_scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }


@pytest.fixture
def app(settings):
    """Build the real app on a clean database."""
    application = create_app(settings)
    application.test_client_class = WorkspaceClient
    _empty_tables(application.extensions["database"])
    yield application
    db = application.extensions["database"]
    if not db.is_closed():
        db.close()


@pytest.fixture
def db(app):
    """Give the test an open connection to the app's database."""
    database = app.extensions["database"]
    database.connect(reuse_if_open=True)
    yield database
    database.close()


LEGACY_PATH = re.compile(r"/((posts|compose|media|accounts|calendar|notifications)/|$)")


class WorkspaceClient(FlaskClient):
    """The test client, following the app's own lead from a short address into a workspace.

    Tests written before workspaces address pages by their short paths (/posts/3, /compose/).
    The app answers those with a redirect into the workspace the page belongs to (302, or 307
    for a form); a browser follows it and lands there. This client asks the app where such a
    path leads (a GET of it, which changes nothing) and sends the request there, with its
    method and body, as a browser sends the form of the page it landed on. A short path the
    app doesn't lead anywhere (signed out, not a member: 404) is sent as it was.
    """

    def open(self, *args, **kwargs):
        """Send the request, to the workspace address the app leads a short path to."""
        path = args[0] if args and isinstance(args[0], str) else None
        if path is None or not LEGACY_PATH.match(path) or path.startswith("/accounts/callback"):
            return super().open(*args, **kwargs)
        bare, _, query = path.partition("?")
        lead = super().open(bare, method="GET")
        location = urlsplit(lead.headers.get("Location", ""))
        if lead.status_code != 302 or not location.path.startswith("/w/"):
            return super().open(*args, **kwargs)
        target = location.path + (f"?{query}" if query else "")
        return super().open(target, *args[1:], **kwargs)


@pytest.fixture
def client(app):
    """Return a test client for the app (see WorkspaceClient)."""
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    """Fetch a page and return the CSRF token it carries for this client's session."""
    body = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        r'"X-CSRFToken": "([^"]+)"', body
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict | None = None, *, token_from: str | None = None, **kw):
    """POST a form the way a browser would, with the CSRF token of the page it came from."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, token_from or path)
    return client.post(path, data=payload, **kw)


def make_user(email: str, role: str = "member", password: str = PASSWORD, **kw):
    """Create a user through the same rules the CLI and Admin Console use."""
    from webapp.people import create_user

    return create_user(email, password, role=role, **kw)


def home(user) -> int:
    """Return the id of user's first workspace (a user made with User.create gets one here):
    where rows a test creates for that user belong."""
    from webapp.workspaces.members import create_workspace, default_for, personal_name

    workspace = default_for(user) or create_workspace(personal_name(user), user)
    return workspace.id


def login(client, email: str, password: str = PASSWORD):
    """Sign in through the login form and return the response."""
    return post_form(client, "/login", {"email": email, "password": password})


@pytest.fixture
def admin(db):
    """Return an admin user."""
    return make_user("admin@example.com", "admin", name="Ada Admin")


@pytest.fixture
def member(db):
    """Return a member user."""
    return make_user("member@example.com", "member", name="Max Member")


@pytest.fixture
def admin_client(client, admin):
    """Return a client signed in as the admin."""
    assert login(client, admin.email).status_code == 303
    return client


@pytest.fixture
def member_client(client, member):
    """Return a client signed in as a member."""
    assert login(client, member.email).status_code == 303
    return client


CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app):
    """Serve the app over real HTTP on a free port; yield its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def chromium():
    """Launch Debian's Chromium through Playwright (never a downloaded browser)."""
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.isfile(path):
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {path}; .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {path}: browser tests skipped (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """Open a fresh browser context and page; fail the test on any console error."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    errors: list[str] = []

    def on_console(msg):
        # A page answered with 4xx on purpose (a refused form) is logged as a failed load; assets
        # are checked by on_response instead.
        # htmx also logs a request it aborted on purpose (hx-sync: a newer check replaces an
        # older one); a failed request still shows as sendError, timeout or the response's status.
        expected = ("Failed to load resource", "htmx:sendAbort,", "htmx:afterRequest,")
        if msg.type == "error" and not msg.text.startswith(expected):
            errors.append(msg.text)

    def on_response(response):
        if response.request.resource_type != "document" and response.status >= 400:
            errors.append(f"{response.status} for {response.url}")

    pg.on("console", on_console)
    pg.on("response", on_response)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture(scope="session")
def sandbox_server():
    """One TikTok sandbox process for the session (real HTTP)."""
    from sandbox.runner import SandboxProcess

    env = {
        "SANDBOX_PROCESSING_SECONDS": "0.3",
        "SANDBOX_MODERATION_SECONDS": "0.3",
        # Photo posts are pulled from the test app's live server on this machine.
        "SANDBOX_VERIFIED_URL_PREFIXES": "http://127.0.0.1:",
    }
    with SandboxProcess(env=env) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    """The sandbox, reset to its demo creators and no tokens."""
    sandbox_server.control("reset", {})
    return sandbox_server


@pytest.fixture
def tiktok(app, db, sandbox):
    """Configure the app's TikTok service to talk to the sandbox; return the sandbox."""
    from webapp.models import TikTokService

    service = TikTokService.load()
    service.client_key = "sbx_demo_client_key"
    service.set_client_secret("sbx_demo_client_secret")
    service.auth_base_url = service.api_base_url = sandbox.url
    service.save()
    return sandbox


# Names the folder where each distinct ffmpeg sample is encoded once per test run (see
# ffmpeg_sample). An environment variable, not a global: pytest loads this file as `conftest`
# while tests import it as `tests.conftest`, two module objects.
SAMPLES_ENV = "CADENCE_TEST_SAMPLES"


@pytest.fixture(scope="session", autouse=True)
def _sample_cache(tmp_path_factory):
    """Point ffmpeg_sample at a folder shared by the run (all xdist workers share the parent)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / "ffmpeg-samples"
    folder.mkdir(exist_ok=True)
    previous = os.environ.get(SAMPLES_ENV)
    os.environ[SAMPLES_ENV] = str(folder)
    yield
    if previous is None:
        os.environ.pop(SAMPLES_ENV, None)
    else:
        os.environ[SAMPLES_ENV] = previous


def _ffmpeg(*args: str) -> None:
    """Run the ffmpeg that pip installs (imageio-ffmpeg), quietly, failing on error."""
    import subprocess

    import imageio_ffmpeg

    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args],
        check=True,
        timeout=120,
    )


def ffmpeg_sample(path, *args: str):
    """Write what `ffmpeg args path` makes to path, encoding each distinct sample once a run."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.environ.get(SAMPLES_ENV):  # outside pytest (bench/): no run to share it with
        _ffmpeg(*args, str(path))
        return path
    samples = Path(os.environ[SAMPLES_ENV])
    key = hashlib.sha256("\0".join(args).encode()).hexdigest()[:20]
    cached = samples / f"{key}{path.suffix}"
    if not cached.exists():
        # Several xdist workers may make the same sample at once: each writes its own file
        # (ffmpeg picks the format from the suffix) and the rename is atomic.
        partial = samples / f"{key}.{os.getpid()}.{uuid.uuid4().hex}.partial{path.suffix}"
        _ffmpeg(*args, str(partial))
        os.replace(partial, cached)
    shutil.copyfile(cached, path)  # a copy, so a test may change or delete its own file
    return path


def ffmpeg_clip(path, size: str = "720x1280", seconds: int = 1, rate: int = 30):
    """Write a real H.264 MP4 test clip to path."""
    return ffmpeg_sample(
        path,
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate={rate}:duration={seconds}",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
    )


def ffmpeg_image(path, size: str = "640x800"):
    """Write a real single-colour JPEG (or whatever path's extension says) to path."""
    return ffmpeg_sample(path, "-f", "lavfi", "-i", f"color=c=orange:s={size}", "-frames:v", "1")
