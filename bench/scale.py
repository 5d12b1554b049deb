"""Scale of history (part of `make bench`): the Posts list, Calendar month and Dashboard with
1,000,000 posts on PostgreSQL, through the real Flask app. Six authors write them: five in the
main workspace (five sixths of the posts), measured by an admin who wrote a sixth of them, and
one in a second workspace (a sixth), measured by that author, a member of it only.

The data set is generated on the server (INSERT … SELECT over generate_series, indexes built
after the rows) into its own schema, and kept between runs under a key made of the generator's
version, the row count and the applied migrations: a run reuses it only when all three match,
and only reads from it. BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test) names
the server, BENCH_SCALE_SCHEMA (default bench_scale) the schema, BENCH_SCALE_POSTS the count.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import latencies, pct  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = os.environ.get("BENCH_SCALE_SCHEMA", "bench_scale")
POSTS = int(os.environ.get("BENCH_SCALE_POSTS", 1_000_000))
GENERATOR_VERSION = "2"  # bump whenever generate() makes different rows (2: workspaces)
TARGET_MS = 50.0
PASSWORD = "bench password"
AUTHORS = 6  # the admin (author 0) and five members
ACCOUNTS_PER_AUTHOR = 2
SECOND = 1  # the author whose posts (and accounts) are in the second workspace
# The data set's "now": fixed, so reused data and the pages measured stay the same.
NOW = dt.datetime(2026, 6, 15, 12, 0)
DAYS = 3 * 365


def schema_url(url: str, schema: str) -> str:
    """Return url pinned to schema (search_path)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-c search_path={schema}')}"


def _key(migrations: list[str]) -> str:
    return f"v{GENERATOR_VERSION}/{POSTS}/{','.join(migrations)}"


def _stored_key(database) -> str | None:
    try:
        with database.atomic():
            row = database.execute_sql("SELECT key FROM bench_scale_meta").fetchone()
        return row[0] if row else None
    except Exception:  # noqa: BLE001 - no table (or no schema) means no usable data set
        return None


# Posts' statuses by share of the rows whose time has passed (the rest are scheduled, or
# publishing within the last minutes): cumulative thresholds over random().
PAST_STATUSES = [
    (0.80, "published"),
    (0.85, "draft"),
    (0.88, "failed"),
    (0.90, "needs_attention"),
    (0.91, "unconfirmed"),
    (0.93, "inbox"),
    (1.00, "cancelled"),
]


def _status_case(r: str) -> str:
    parts = " ".join(f"WHEN {r} < {cut} THEN '{name}'" for cut, name in PAST_STATUSES[:-1])
    return f"CASE {parts} ELSE '{PAST_STATUSES[-1][1]}' END"


def _column_list(model, given: dict[str, str]) -> tuple[str, str]:
    """Return (columns, expressions) for an INSERT … SELECT filling every column of model:
    `given` names some; the rest take the model's default as a literal."""
    cols, exprs = [], []
    for field in model._meta.sorted_fields:
        if field.name == "id":
            continue
        cols.append(f'"{field.column_name}"')
        if field.name in given:
            exprs.append(given[field.name])
            continue
        default = field.default() if callable(field.default) else field.default
        if default is None:
            exprs.append("NULL")
        elif isinstance(default, bool):
            exprs.append("TRUE" if default else "FALSE")
        elif isinstance(default, int | float):
            exprs.append(str(default))
        elif isinstance(default, dt.datetime):
            exprs.append(f"TIMESTAMP '{NOW.isoformat(sep=' ')}'")
        elif isinstance(default, list):
            exprs.append("'[]'")
        else:
            exprs.append("'" + str(default).replace("'", "''") + "'")
    return ", ".join(cols), ", ".join(exprs)


def generate(database, users: list[int], accounts: list[list[int]], workspaces: list[int]) -> None:
    """Fill post and post_target with POSTS posts spread over three years (server side); the
    posts of users[n] are in workspaces[n]."""
    from webapp.models import Post, PostTarget

    now = f"TIMESTAMP '{NOW.isoformat(sep=' ')}'"
    # g is the row number; rnd a per-row random stream (setseed makes it repeatable).
    post_cols, post_exprs = _column_list(
        Post,
        {
            "author": "(ARRAY[" + ",".join(map(str, users)) + f"])[1 + mod(g, {len(users)})]",
            "workspace": "(ARRAY["
            + ",".join(map(str, workspaces))
            + f"])[1 + mod(g, {len(workspaces)})]",
            "created_at": "c",
            "updated_at": "coalesce(s, c) + interval '3 minutes'",
            "caption": "'Post ' || g || ': behind the scenes of the spring collection #cadence'",
            "status": f"CASE WHEN s > {now} THEN 'scheduled' "
            f"WHEN s > {now} - interval '5 minutes' THEN 'publishing' "
            f"ELSE {_status_case('r')} END",
            "scheduled_at": "CASE WHEN r >= 0.80 AND r < 0.85 THEN NULL ELSE s END",
            "consent_at": "CASE WHEN r >= 0.80 AND r < 0.85 THEN NULL ELSE c END",
        },
    )
    # Created at whole minutes (many posts share one), scheduled 0-14 days later at a 5-minute
    # mark; the newest are still in the future.
    rows = (
        "SELECT g, c, s, r FROM ("
        f"SELECT g, date_trunc('minute', {now} - interval '1 minute' * "
        f"floor(random() * {DAYS * 1440})) AS c, "
        f"random() AS r, floor(random() * 4032) AS d FROM generate_series(1, {POSTS}) AS g"
        ") AS base, LATERAL (SELECT c + interval '5 minutes' * d AS s) AS sched"
    )
    indexes = [
        (name, definition)
        for table in ("post", "post_target")
        for name, definition in database.execute_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexname NOT LIKE %s",
            (table, "%_pkey"),
        ).fetchall()
    ]
    with database.atomic():
        database.execute_sql("SET LOCAL synchronous_commit = off")
        database.execute_sql("SET LOCAL maintenance_work_mem = '256MB'")
        database.execute_sql("SELECT setseed(0.16)")
        for name, _ in indexes:  # built once after the rows: much faster than row by row
            database.execute_sql(f'DROP INDEX "{name}"')
        database.execute_sql(
            f"INSERT INTO post ({post_cols}) SELECT {post_exprs} FROM ({rows}) AS x "  # noqa: S608 - our literals only
            "ORDER BY x.c"
        )
        # One target per post on one of its author's accounts, a second on every fifth post.
        mapping = ", ".join(
            f"({user}, {acc[0]}, {acc[1]})" for user, acc in zip(users, accounts, strict=True)
        )
        first = "CASE WHEN mod(p.id, 2) = 0 THEN m.a1 ELSE m.a2 END"
        other = "CASE WHEN mod(p.id, 2) = 0 THEN m.a2 ELSE m.a1 END"
        for account, where in ((first, "TRUE"), (other, "mod(p.id, 5) = 0")):
            cols, exprs = _column_list(
                PostTarget,
                {
                    "post": "p.id",
                    "account": account,
                    "status": "p.status",
                    "created_at": "p.created_at",
                    "updated_at": "p.updated_at",
                    "privacy_level": "'PUBLIC_TO_EVERYONE'",
                    "published_at": "CASE WHEN p.status = 'published' THEN p.scheduled_at END",
                    "fail_reason": "CASE WHEN p.status = 'failed' "
                    "THEN 'spam_risk_too_many_posts' ELSE '' END",
                },
            )
            database.execute_sql(
                f"INSERT INTO post_target ({cols}) SELECT {exprs} FROM post p "  # noqa: S608 - our literals only
                f"JOIN (VALUES {mapping}) AS m(author, a1, a2) ON m.author = p.author_id "
                f"WHERE {where}"
            )
        for _, definition in indexes:
            database.execute_sql(definition)


def prepare(database_url: str) -> tuple[str, float | None]:
    """Make sure the schema holds the current data set; return (its key, generation seconds or
    None when reused)."""
    from webapp import db as dbmod
    from webapp.models import Account, Membership
    from webapp.people import create_user
    from webapp.workspaces.members import create_workspace

    admin = dbmod.open_database(PG_URL)
    database = dbmod.open_database(database_url)
    migrations = [p.stem for p in sorted(dbmod.MIGRATIONS_DIR.glob("0*.py"))]
    key = _key(migrations)
    with database.connection_context():
        stored = _stored_key(database)
    if stored == key:
        return key, None
    started = time.perf_counter()
    with admin.connection_context():
        admin.execute_sql(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        admin.execute_sql(f'CREATE SCHEMA "{SCHEMA}"')
    dbmod.db.initialize(database)
    dbmod.migrate(database)
    with database.connection_context():
        users, accounts, workspaces = [], [], []
        main = create_workspace("Main workspace", None)
        second = create_workspace("Second workspace", None)
        for n in range(AUTHORS):
            email = "scale@example.com" if n == 0 else f"author{n}@example.com"
            user = create_user(
                email, PASSWORD, role="admin" if n == 0 else "member", personal_workspace=False
            )
            workspace = second if n == SECOND else main
            Membership.create(
                workspace=workspace, user=user, role="manager" if n in (0, SECOND) else "editor"
            )
            users.append(user.id)
            workspaces.append(workspace.id)
            accounts.append(
                [
                    Account.create(
                        workspace=workspace,
                        owner=user,
                        open_id=f"scale-{n}-{k}",
                        username=f"brand{n}.{k}",
                        display_name=f"Brand {n}.{k}",
                    ).id
                    for k in range(ACCOUNTS_PER_AUTHOR)
                ]
            )
        generate(database, users, accounts, workspaces)
        database.execute_sql("VACUUM ANALYZE post")
        database.execute_sql("VACUUM ANALYZE post_target")
        database.execute_sql("CREATE TABLE bench_scale_meta (key text)")
        database.execute_sql("INSERT INTO bench_scale_meta VALUES (%s)", (key,))
    return key, time.perf_counter() - started


def run(redis_url: str) -> list[str]:
    """Generate (or reuse) the data set, time the pages and return the lines to print."""
    from webapp import create_app
    from webapp import db as dbmod
    from webapp.pagination import Cursor

    header = (
        f"{'page (ms, 1,000,000 posts, PostgreSQL)':<40} {'p50':>6} {'p95':>6}  "
        f"{'reference':<22} {'p95':>6} {'ratio':>6} {'target':>12}"
    )
    lines = [header, "-" * len(header)]
    try:
        probe = dbmod.open_database(PG_URL)
        probe.connect()
        probe.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [
            *lines,
            f"{'Scale of history':<40} skipped: PostgreSQL not reachable at {PG_URL} ({reason})",
        ]
    database_url = schema_url(PG_URL, SCHEMA)
    key, seconds = prepare(database_url)
    app = create_app(
        {
            "APP_ENV": "test",
            "SECRET_KEY": "s" * 48,
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
        }
    )
    database = app.extensions["database"]
    with database.connection_context():
        total = database.execute_sql("SELECT count(*) FROM post").fetchone()[0]
        main_id, in_main = database.execute_sql(
            "SELECT w.id, count(*) FROM post p JOIN workspace w ON w.id = p.workspace_id "
            "WHERE w.slug = 'main-workspace' GROUP BY w.id"
        ).fetchone()
        deep = database.execute_sql(
            "SELECT created_at, id FROM post WHERE workspace_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (main_id, in_main // 2),
        ).fetchone()
        deep_failed = database.execute_sql(
            "SELECT created_at, id FROM post WHERE workspace_id = %s AND status = 'failed' "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (main_id, in_main // 70),
        ).fetchone()
    made = (
        f"generated in {seconds:.0f} s"
        if seconds is not None
        else "reused (same generator, size and migrations)"
    )
    lines.insert(
        0,
        f"Data set: {total:,} posts ({in_main:,} in the main workspace) in schema {SCHEMA}, {made}",
    )
    client, author = app.test_client(), app.test_client()
    for who, email in ((client, "scale@example.com"), (author, "author1@example.com")):
        reply = who.post("/login", data={"email": email, "password": PASSWORD})
        assert reply.status_code in (302, 303), reply.status_code
    with database.connection_context():
        author_deep = database.execute_sql(
            "SELECT created_at, id FROM post WHERE workspace_id = "
            "(SELECT id FROM workspace WHERE slug = 'second-workspace') "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (total // AUTHORS // 2,),
        ).fetchone()
    month = (NOW - dt.timedelta(days=400)).date().replace(day=1).isoformat()
    older = Cursor(*deep).token()
    main, second = "/w/main-workspace", "/w/second-workspace"
    pages = [
        ("Posts list, first page", client, f"{main}/posts/"),
        (f"Posts list, {in_main // 2:,} posts deep", client, f"{main}/posts/?older={older}"),
        (
            "Posts list, Failed, deep page",
            client,
            f"{main}/posts/?status=failed&older={Cursor(*deep_failed).token()}",
        ),
        (
            "Posts list, 2nd workspace, deep page",
            author,
            f"{second}/posts/?older={Cursor(*author_deep).token()}",
        ),
        ("Calendar month (~23,000 posts)", client, f"{main}/calendar/?date={month}"),
        ("Calendar month, 2nd workspace", author, f"{second}/calendar/?date={month}"),
        ("Calendar week", client, f"{main}/calendar/?view=week&date={month}"),
        ("Dashboard", client, f"{main}/"),
        ("Dashboard, 2nd workspace", author, f"{second}/"),
    ]
    reference = f"{main}/notifications/"  # signed in, same base template, an empty list
    for _name, who, url in [*pages, ("", client, reference)]:
        reply = who.get(url)
        assert reply.status_code == 200, (url, reply.status_code)
    ref = latencies(lambda: client.get(reference), count=200)
    ref95 = pct(ref, 0.95)
    for name, who, url in pages:
        times = latencies(lambda who=who, url=url: who.get(url), count=200)
        p95 = pct(times, 0.95)
        verdict = "ok" if p95 <= TARGET_MS else "MISSED"
        lines.append(
            f"{name:<40} {pct(times, 0.5):>6.1f} {p95:>6.1f}  {'empty signed-in page':<22} "
            f"{ref95:>6.1f} {p95 / ref95:>6.1f} {f'≤{TARGET_MS:.0f} {verdict}':>12}"
        )
    lines.append(f"(data set key {key})")
    return lines


if __name__ == "__main__":
    for line in run(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")):
        print(line)
