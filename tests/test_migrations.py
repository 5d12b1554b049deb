"""Versioned migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os

import peewee as pw
import pytest
from playhouse.schema_diff import diff_models

from tests.conftest import PG_SCHEMA, home, postgres_available, postgres_url, reset_postgres_schema
from tests.test_routes_security import plain_client  # builds its listing app at import, not later
from webapp import db as dbmod
from webapp.models import MODELS

SCHEMA = f"{PG_SCHEMA}_migration"


def _engines(tmp_path):
    yield "sqlite", f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    if postgres_available():
        reset_postgres_schema(SCHEMA)
        yield "postgresql", postgres_url(SCHEMA)
    elif os.environ.get("CADENCE_REQUIRE_POSTGRES") or os.environ.get("CI"):
        pytest.fail(
            "PostgreSQL does not answer at TEST_DATABASE_URL; the migration test needs both engines"
        )
    else:
        pytest.skip(
            "PostgreSQL does not answer at TEST_DATABASE_URL: migrations checked on SQLite only"
        )


def _nullability(database: pw.Database, model) -> dict[str, bool]:
    return {c.name: c.null for c in database.get_columns(model._meta.table_name)}


ALL_MIGRATIONS = [
    "0001_initial",
    "0002_notifications_webhooks",
    "0003_publishing",
    "0004_audit_kit",
    "0005_public_pages",
    "0006_session_token",
    "0007_post_history_indexes",
    "0008_workspaces",
]


def test_upgrade_on_empty_databases_matches_the_models(tmp_path):
    seen = []
    for engine, url in _engines(tmp_path):
        database = dbmod.open_database(url)
        assert dbmod.migrate(database) == ALL_MIGRATIONS, engine
        assert dbmod.migrate(database) == [], engine  # idempotent
        with database.connection_context():
            diff = diff_models(database, MODELS)
            assert not diff, f"{engine}: {diff}"
            for model in MODELS:
                columns = _nullability(database, model)
                expected = {f.column_name: f.null for f in model._meta.sorted_fields}
                expected["id"] = False
                assert columns == expected, f"{engine}: {model.__name__}"
        status = dbmod.migration_status(database)
        assert [name for name, applied in status if applied] == ALL_MIGRATIONS
        seen.append(engine)
    assert seen == ["sqlite", "postgresql"]


def test_models_work_on_the_migrated_schema(db):
    from webapp.models import Account, Post, PostEvent, PostTarget, User

    user = User.create(email="m@example.com", password_hash="x")
    account = Account.create(
        workspace=home(user), owner=user, open_id="open-1", username="u", display_name="U"
    )
    account.set_tokens("act.secret-access", "rft.secret-refresh")
    account.save()
    post = Post.create(workspace=home(user), author=user, caption="héllo 👋")
    target = PostTarget.create(post=post, account=account, total_bytes=4 * 1024**3)
    PostEvent.create(post=post, target=target, kind="created", data={"k": [1, 2]})
    fresh = Account.get_by_id(account.id)
    assert fresh.access_token() == "act.secret-access"
    assert PostTarget.get_by_id(target.id).total_bytes == 4 * 1024**3
    assert PostEvent.get().data == {"k": [1, 2]}
    with pytest.raises(pw.IntegrityError), db.atomic():
        Account.create(workspace=home(user), owner=user, open_id="open-1")
    raw = db.execute_sql("SELECT access_token_enc, refresh_token_enc FROM account").fetchone()
    assert "secret" not in raw[0] and "secret" not in raw[1]


def test_sqlite_writers_in_two_processes_wait_for_each_other_instead_of_failing(tmp_path):
    """A reads then writes in a transaction while B writes (two worker processes). Under WAL a
    deferred transaction fails at once with "database is locked"; Cadence's wait their turn."""
    import threading

    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    setup = dbmod.open_database(url)
    with setup.connection_context():
        setup.execute_sql("CREATE TABLE counter (n INTEGER)")
        setup.execute_sql("INSERT INTO counter VALUES (0)")
    a_read, b_wrote = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def a():
        database = dbmod.open_database(url)
        try:
            with database.connection_context(), database.atomic():
                (n,) = database.execute_sql("SELECT n FROM counter").fetchone()
                a_read.set()
                b_wrote.wait(1)  # B can't write while A's transaction holds the lock
                database.execute_sql("UPDATE counter SET n = ?", (n + 1,))
        except pw.OperationalError as exc:
            errors.append(exc)

    def b():
        database = dbmod.open_database(url)
        a_read.wait(5)
        try:
            with database.connection_context(), database.atomic():
                database.execute_sql("UPDATE counter SET n = n + 1")
            b_wrote.set()
        except pw.OperationalError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors
    with setup.connection_context():
        assert setup.execute_sql("SELECT n FROM counter").fetchone()[0] == 2


def test_session_token_migration_gives_existing_users_distinct_tokens(tmp_path):
    from playhouse.migrations import Runner

    from webapp.db import MIGRATIONS_DIR

    seen = []
    for engine, url in _engines(tmp_path):
        database = dbmod.open_database(url)
        with database.connection_context():
            Runner(database, str(MIGRATIONS_DIR)).up("0005_public_pages")
            marks = ", ".join([database.param] * 7)
            insert = (
                'INSERT INTO "user" (created_at, updated_at, email, name, password_hash, role, '  # noqa: S608 - placeholders only
                "active) VALUES (" + marks + ")"
            )
            for email in ("a@example.com", "b@example.com"):
                row = ("2026-01-01", "2026-01-01", email, "", "x", "member", True)
                database.execute_sql(insert, row)
        assert dbmod.migrate(database)[0] == "0006_session_token", engine
        with database.connection_context():
            tokens = [r[0] for r in database.execute_sql('SELECT session_token FROM "user"')]
        assert len(set(tokens)) == 2 and all(len(t) >= 32 for t in tokens), engine
        seen.append(engine)
    assert seen == ["sqlite", "postgresql"]


def test_each_test_starts_on_empty_tables_with_ids_from_one(db):
    # The per-test reset (tests/conftest.py _empty_tables) empties only the tables a test
    # touched; this covers a table left with rows and one filled and emptied again.
    from tests.conftest import _empty_tables
    from webapp.models import Account, Post, User

    user = User.create(email="m@example.com", password_hash="x")
    Account.create(
        workspace=home(user), owner=user, open_id="open-1", username="u", display_name="U"
    )
    Post.delete().where(
        Post.id == Post.create(workspace=home(user), author=user, caption="gone").id
    ).execute()
    assert Post.select().count() == 0
    _empty_tables(db)
    db.connect(reuse_if_open=True)
    assert {m.__name__: m.select().count() for m in MODELS} == {m.__name__: 0 for m in MODELS}
    again = User.create(email="n@example.com", password_hash="x")
    assert again.id == 1
    assert Post.create(workspace=home(again), author=again, caption="first").id == 1


# --- 0008: everything that existed moves into the first workspace (issue 17) -------------------

BEFORE_WORKSPACES = "0007_post_history_indexes"
# Tables whose rows 0008 gives a workspace; the others keep theirs as they were.
WORKSPACE_TABLES = ("account", "media", "post", "notification")
HISTORY_TABLES = ("user", "post_media", "post_target", "post_event", "webhook_event")


def _filler(data_type: str, engine: str):
    kind = data_type.lower()
    if "int" in kind or kind in {"boolean", "real", "double precision", "numeric"}:
        return False if kind == "boolean" else 0
    if "date" in kind or "time" in kind:
        return "2026-03-01 09:00:00"
    return ""


def _insert(database: pw.Database, table: str, **values) -> int:
    """Insert a row into table as its schema stands (required columns filled); return its id."""
    engine = "postgresql" if isinstance(database, pw.PostgresqlDatabase) else "sqlite"
    row = {
        c.name: _filler(c.data_type, engine)
        for c in database.get_columns(table)
        if not c.null and c.name != "id"
    }
    row.update(values)
    names = ", ".join(f'"{name}"' for name in row)
    marks = ", ".join([database.param] * len(row))
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - our names
    if engine == "postgresql":
        return database.execute_sql(sql + " RETURNING id", list(row.values())).fetchone()[0]
    return database.execute_sql(sql, list(row.values())).lastrowid


def _table(database: pw.Database, table: str) -> dict[int, dict]:
    cursor = database.execute_sql(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _fill_before_workspaces(database: pw.Database) -> dict:
    """Put an installation's worth of rows into the schema of 0007: an admin and a member, their
    connected accounts (with encrypted tokens), media, posts with targets and history, and
    notifications. Return the ids a test follows."""
    from werkzeug.security import generate_password_hash

    from tests.conftest import PASSWORD, SECRET
    from webapp.crypto import Keyring

    ring = Keyring(SECRET)
    password = generate_password_hash(PASSWORD, "pbkdf2:sha256:1")
    ids: dict = {}
    for who, role in (("admin", "admin"), ("member", "member")):
        ids[who] = _insert(
            database,
            "user",
            email=f"{who}@example.com",
            name=who.title(),
            password_hash=password,
            role=role,
            active=True,
            session_token=f"token-{who}-" + "x" * 40,
        )
        ids[f"{who}_account"] = _insert(
            database,
            "account",
            owner_id=ids[who],
            provider="tiktok",
            open_id=f"open-{who}",
            username=f"{who}.creator",
            display_name=f"{who} creator",
            status="connected",
            access_token_enc=ring.encrypt(f"act.{who}"),
            refresh_token_enc=ring.encrypt(f"rft.{who}"),
        )
        ids[f"{who}_media"] = _insert(
            database,
            "media",
            owner_id=ids[who],
            kind="video",
            original_name=f"{who}.mp4",
            stored_name=f"2026/03/{who}.mp4",
            status="ready",
            duration_ms=4000,
            problems="[]",
        )
        for status in ("published", "scheduled", "draft"):
            post = _insert(
                database,
                "post",
                author_id=ids[who],
                post_type="video",
                caption=f"{who} {status} caption",
                status=status,
                scheduled_at="2026-03-02 10:00:00" if status != "draft" else None,
            )
            ids[f"{who}_{status}_post"] = post
            _insert(database, "post_media", post_id=post, media_id=ids[f"{who}_media"])
            target = _insert(
                database,
                "post_target",
                post_id=post,
                account_id=ids[f"{who}_account"],
                status=status,
                privacy_level="SELF_ONLY",
                public_url="https://www.tiktok.com/@x/video/1" if status == "published" else "",
            )
            for kind in ("created", status):
                _insert(
                    database,
                    "post_event",
                    post_id=post,
                    target_id=target,
                    kind=kind,
                    message=f"{who} {kind} event",
                )
        ids[f"{who}_notice"] = _insert(
            database,
            "notification",
            user_id=ids[who],
            kind="post_failed",
            message=f"{who} notice",
            link=f"/posts/{ids[f'{who}_published_post']}",
        )
    return ids


def test_workspaces_migration_keeps_everything_in_the_main_workspace(tmp_path, redis_url):
    from playhouse.migrations import Runner

    from tests.conftest import SECRET
    from webapp import create_app
    from webapp.db import MIGRATIONS_DIR

    seen = []
    for engine, url in _engines(tmp_path):
        database = dbmod.open_database(url)
        with database.connection_context():
            Runner(database, str(MIGRATIONS_DIR)).up(BEFORE_WORKSPACES)
            ids = _fill_before_workspaces(database)
            before = {t: _table(database, t) for t in (*WORKSPACE_TABLES, *HISTORY_TABLES)}
        assert dbmod.migrate(database) == ["0008_workspaces"], engine
        with database.connection_context():
            (main,) = database.execute_sql(
                "SELECT id, name, slug, approval_required FROM workspace"
            ).fetchall()
            assert main[1:] == ("Main workspace", "main", main[3]) and not main[3], engine
            members = database.execute_sql(
                f"SELECT user_id, role FROM membership WHERE workspace_id = {database.param}",  # noqa: S608 - a placeholder
                (main[0],),
            ).fetchall()
            assert sorted(members) == [(ids["admin"], "manager"), (ids["member"], "manager")]
            after = {t: _table(database, t) for t in (*WORKSPACE_TABLES, *HISTORY_TABLES)}
        for table, rows_before in before.items():
            assert set(after[table]) == set(rows_before), (engine, table)  # nothing lost
            for row_id, row in rows_before.items():
                kept = {k: v for k, v in after[table][row_id].items() if k in row}
                assert kept == row, (engine, table, row_id)  # every value as it was
                if table in WORKSPACE_TABLES:
                    assert after[table][row_id]["workspace_id"] == main[0], (engine, table)
        assert before["post_event"] and before["post_target"]

        # The app on the migrated database: tokens still decrypt, old URLs lead into "main".
        app = create_app(
            {
                "APP_ENV": "test",
                "TESTING": True,
                "SECRET_KEY": SECRET,
                "DATABASE_URL": url,
                "REDIS_URL": redis_url,
                "MEDIA_ROOT": str(tmp_path / engine / "media"),
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            }
        )
        try:
            _old_urls_lead_into_main(app, ids, engine)
        finally:
            app.extensions["database"].close()
        seen.append(engine)
    assert seen == ["sqlite", "postgresql"]


def _old_urls_lead_into_main(app, ids: dict, engine: str) -> None:
    from webapp.models import Account

    with app.app_context():
        app.extensions["database"].connect(reuse_if_open=True)
        for who in ("admin", "member"):
            account = Account.get_by_id(ids[f"{who}_account"])
            assert (account.access_token(), account.refresh_token()) == (f"act.{who}", f"rft.{who}")
        from webapp.people import create_user

        create_user("later@example.com", "correct horse battery", name="Lou Later")
        app.extensions["database"].close()
    post, draft = ids["member_published_post"], ids["member_draft_post"]
    old = {
        f"/posts/{post}": f"/w/main/posts/{post}",
        f"/compose/{draft}/edit": f"/w/main/compose/{draft}/edit",
        f"/media/{ids['member_media']}/file": f"/w/main/media/{ids['member_media']}/file",
        "/accounts/": "/w/main/accounts/",
        "/calendar/": "/w/main/calendar/",
        "/": "/w/main/",
    }
    member = plain_client(app, "member@example.com")
    for path, target in old.items():
        reply = member.get(path)
        assert reply.status_code == 302, (engine, path, reply.status_code)
        assert reply.headers["Location"] == target, (engine, path)
    # Where they lead opens with its history (the media file itself isn't on this disk).
    page = member.get(f"/w/main/posts/{post}").get_data(as_text=True)
    assert "member published caption" in page and "member published event" in page, engine
    for target in (*list(old.values())[1:2], *list(old.values())[3:]):
        assert member.get(target).status_code == 200, (engine, target)
    assert "member.creator" in member.get("/w/main/accounts/").get_data(as_text=True)
    # Someone who joined later, into a workspace of their own, finds none of it.
    later = plain_client(app, "later@example.com")
    for path, target in old.items():
        reply = later.get(path)
        if path.rstrip("/").split("/")[-1].isdigit() or "/edit" in path or "/file" in path:
            assert reply.status_code == 404, (engine, path, reply.status_code)
        else:  # a page of no object leads into their own workspace
            assert reply.status_code == 302 and "/w/main/" not in reply.headers["Location"]
        assert later.get(target).status_code == 404, (engine, target)
