"""Versioned migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os

import peewee as pw
import pytest
from playhouse.schema_diff import diff_models

from tests.conftest import PG_SCHEMA, home, postgres_available, postgres_url, reset_postgres_schema
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
