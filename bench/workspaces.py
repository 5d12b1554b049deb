"""Workspaces at agency size (part of `make bench`): the Posts list, Calendar month and Dashboard
of one workspace among 50, with 200 accounts and 20,000 posts in the installation, through the
real Flask app, signed in as an editor of that one workspace (not an admin), on PostgreSQL and
SQLite.

The workspace measured is the busiest (a tenth of all posts, 2,000); the other 49 share the rest,
so its pages must find its own rows among everyone's. Rows are written with peewee's
insert_many, the same on both engines; the data set is made afresh each run (seconds).
BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test) names the server,
BENCH_WORKSPACES_SCHEMA (default bench_workspaces) the schema.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import latencies, pct  # noqa: E402
from bench.scale import NOW, PG_URL, schema_url  # noqa: E402

SCHEMA = os.environ.get("BENCH_WORKSPACES_SCHEMA", "bench_workspaces")
WORKSPACES = 50
ACCOUNTS = 200  # four per workspace
POSTS = 20_000
BUSIEST_SHARE = 0.10  # of POSTS, in the workspace measured
TARGET_MS = 50.0
PASSWORD = "bench password"
DAYS = 365
# Statuses by share, for posts whose time has passed (later ones are scheduled).
PAST = [(0.80, "published"), (0.85, "draft"), (0.90, "failed"), (0.93, "inbox"), (1.0, "cancelled")]


def _status(r: float, when: dt.datetime) -> str:
    if when > NOW:
        return "scheduled"
    return next(name for cut, name in PAST if r < cut)


def generate(seed: int = 17) -> dict:
    """Fill the bound (migrated, empty) database: 50 workspaces with a manager each, 200
    accounts, 20,000 posts with targets; an editor of the busiest one. Return what run() needs."""
    from webapp.db import db
    from webapp.models import Account, Membership, Post, PostTarget
    from webapp.people import create_user
    from webapp.workspaces.members import create_workspace

    rng = random.Random(seed)
    workspaces, accounts = [], {}
    for n in range(WORKSPACES):
        manager = create_user(f"manager{n}@example.com", PASSWORD, personal_workspace=False)
        workspace = create_workspace(f"Client {n:02d}", manager)
        workspaces.append((workspace, manager))
        accounts[workspace.id] = [
            Account.create(
                workspace=workspace,
                owner=manager,
                open_id=f"ws-{n}-{k}",
                username=f"client{n}.{k}",
                display_name=f"Client {n}.{k}",
            ).id
            for k in range(ACCOUNTS // WORKSPACES)
        ]
    busiest = workspaces[0][0]
    editor = create_user("editor@example.com", PASSWORD, personal_workspace=False)
    Membership.create(workspace=busiest, user=editor, role="editor")
    own = round(POSTS * BUSIEST_SHARE)
    owners = [busiest] * own + [workspaces[1 + i % (WORKSPACES - 1)][0] for i in range(POSTS - own)]
    rng.shuffle(owners)
    managers = {w.id: m.id for w, m in workspaces}
    rows = []
    for workspace in owners:
        created = NOW - dt.timedelta(minutes=rng.randrange(DAYS * 1440))
        when = created + dt.timedelta(minutes=5 * rng.randrange(4032))
        status = _status(rng.random(), when)
        rows.append(
            {
                "workspace": workspace.id,
                "author": managers[workspace.id],
                "created_at": created,
                "updated_at": when,
                "caption": "Behind the scenes of the spring collection #cadence",
                "status": status,
                "scheduled_at": None if status == "draft" else when,
                "consent_at": None if status == "draft" else created,
            }
        )
    rows.sort(key=lambda r: r["created_at"])
    with db.atomic():
        for start in range(0, len(rows), 500):
            Post.insert_many(rows[start : start + 500]).execute()
    targets = []
    for post in Post.select(Post.id, Post.workspace, Post.status, Post.created_at).tuples():
        post_id, workspace_id, status, created = post
        choices = accounts[workspace_id]
        for k in range(1 if post_id % 5 else 2):
            targets.append(
                {
                    "post": post_id,
                    "account": choices[(post_id + k) % len(choices)],
                    "status": status,
                    "privacy_level": "PUBLIC_TO_EVERYONE",
                    "created_at": created,
                    "updated_at": created,
                }
            )
    with db.atomic():
        for start in range(0, len(targets), 500):
            PostTarget.insert_many(targets[start : start + 500]).execute()
    return {"slug": busiest.slug, "workspace_id": busiest.id, "targets": len(targets)}


def _measure(engine: str, database_url: str, redis_url: str, media_root: str) -> list[str]:
    from webapp import create_app
    from webapp import db as dbmod
    from webapp.models import Post

    started = time.perf_counter()
    app = create_app(
        {
            "APP_ENV": "test",
            "SECRET_KEY": "w" * 48,
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": media_root,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        }
    )
    database = app.extensions["database"]
    dbmod.migrate(database)
    with database.connection_context():
        made = generate()
        database.execute_sql("ANALYZE")  # planner statistics, as a live installation has
        busiest = Post.select().where(Post.workspace == made["workspace_id"])
        count = busiest.count()
        month = (
            Post.select(Post.scheduled_at)
            .where((Post.workspace == made["workspace_id"]) & Post.scheduled_at.is_null(False))
            .order_by(Post.scheduled_at.desc())
            .offset(count // 3)
            .limit(1)
            .scalar()
        )
    seconds = time.perf_counter() - started
    client = app.test_client()
    reply = client.post("/login", data={"email": "editor@example.com", "password": PASSWORD})
    assert reply.status_code in (302, 303), reply.status_code
    base = f"/w/{made['slug']}"
    day = month.date().replace(day=1).isoformat()
    pages = [
        ("Posts list, first page", f"{base}/posts/"),
        ("Calendar month", f"{base}/calendar/?date={day}"),
        ("Dashboard", f"{base}/"),
    ]
    reference = f"{base}/notifications/"  # signed in, same base template, an empty list
    for _name, url in [*pages, ("", reference)]:
        got = client.get(url)
        assert got.status_code == 200, (url, got.status_code)
    ref95 = pct(latencies(lambda: client.get(reference), count=200), 0.95)
    lines = [
        f"{engine}: {WORKSPACES} workspaces, {ACCOUNTS} accounts, {POSTS:,} posts "
        f"({made['targets']:,} targets), the workspace measured holds {count:,}; "
        f"made in {seconds:.0f} s"
    ]
    for name, url in pages:
        times = latencies(lambda url=url: client.get(url), count=200)
        p95 = pct(times, 0.95)
        verdict = "ok" if p95 <= TARGET_MS else "MISSED"
        lines.append(
            f"{name + f' ({engine})':<40} {pct(times, 0.5):>6.1f} {p95:>6.1f}  "
            f"{'empty signed-in page':<22} {ref95:>6.1f} {p95 / ref95:>6.1f} "
            f"{f'≤{TARGET_MS:.0f} {verdict}':>12}"
        )
    database.close()
    return lines


def run(redis_url: str) -> list[str]:
    """Time the pages on SQLite and PostgreSQL; return the lines to print."""
    from webapp import db as dbmod

    header = (
        f"{'page (ms, one of 50 workspaces, editor)':<40} {'p50':>6} {'p95':>6}  "
        f"{'reference':<22} {'p95':>6} {'ratio':>6} {'target':>12}"
    )
    lines = [header, "-" * len(header)]
    with tempfile.TemporaryDirectory() as tmp:
        lines += _measure("sqlite", f"sqlite:///{tmp}/workspaces.sqlite3", redis_url, tmp)
        try:
            admin = dbmod.open_database(PG_URL)
            with admin.connection_context():
                admin.execute_sql(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
                admin.execute_sql(f'CREATE SCHEMA "{SCHEMA}"')
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return [*lines, f"{'PostgreSQL':<40} skipped: not reachable at {PG_URL} ({reason})"]
        lines += _measure("postgresql", schema_url(PG_URL, SCHEMA), redis_url, tmp)
    return lines


if __name__ == "__main__":
    for line in run(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")):
        print(line)
