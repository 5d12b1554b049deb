"""The `flask` commands: users, db, secrets rotation; bad input exits non-zero with one line."""

from __future__ import annotations

import pytest

from tests.conftest import SECRET, home
from webapp import create_app
from webapp.db import connected
from webapp.models import Account, TikTokService, User


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_users_create_makes_an_admin(runner, db):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Boss@Example.com",
            "--role",
            "admin",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com." in result.output
    assert User.by_email("boss@example.com").is_admin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["users", "create", "bad-email", "--password", "a long password"],
            "Error: Enter an email address",
        ),
        (
            ["users", "create", "ok@example.com", "--password", "short"],
            "Error: Use at least 10 characters.",
        ),
    ],
)
def test_users_create_refusals(runner, db, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.output.strip().startswith(message)
    assert User.select().count() == 0


def test_users_create_without_password_and_no_terminal_fails_cleanly(runner, db):
    result = runner.invoke(args=["users", "create", "ok@example.com"], input="")
    assert result.exit_code == 1
    assert "no password given" in result.output


def test_duplicate_user_is_refused(runner, db):
    runner.invoke(args=["users", "create", "a@example.com", "--password", "a long password"])
    result = runner.invoke(
        args=["users", "create", "a@example.com", "--password", "a long password"]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_db_status_lists_applied_migrations(runner):
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0
    assert "[x] 0001_initial" in result.output


def test_secret_rotation_reencrypts_everything(settings, app):
    # Each create_app() binds its own connection, so every step holds one explicitly.
    with connected():
        service = TikTokService.load()
        service.set_client_secret("client-secret-1")
        service.save()
        user = User.create(email="o@example.com", password_hash="x")
        account = Account.create(workspace=home(user), owner=user, open_id="o1")
        account.set_tokens("access-1", "refresh-1")
        account.save()
    new_secret = "a-brand-new-secret-key-of-enough-length-42"
    # Without the old key listed, the new key can't read what the old one wrote.
    broken = create_app({**settings, "SECRET_KEY": new_secret})
    result = broken.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 1
    assert "cannot be decrypted" in result.output
    rotating = create_app({**settings, "SECRET_KEY": new_secret, "OLD_SECRET_KEYS": SECRET})
    result = rotating.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 3 secret(s)" in result.output
    create_app({**settings, "SECRET_KEY": new_secret})  # the old key is no longer needed
    with connected():
        assert TikTokService.load().client_secret() == "client-secret-1"
        fresh = Account.get_by_id(account.id)
        assert (fresh.access_token(), fresh.refresh_token()) == ("access-1", "refresh-1")


@pytest.mark.parametrize("env", ["production", "test"])
def test_demo_seed_is_refused_outside_demo_and_development(app, settings, env, tmp_path):
    app = create_app({**settings, "APP_ENV": env, "TESTING": False, "INSTANCE": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "runs only with APP_ENV=demo or development" in result.output
    with connected():
        assert User.select().count() == 0
        assert not TikTokService.load().client_key
    assert not list(tmp_path.iterdir())  # no demo password kept either


def test_demo_seed_works_in_development(app, settings, tmp_path):
    app = create_app({**settings, "APP_ENV": "development", "INSTANCE": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with connected():
        assert User.by_email("admin@cadence.demo").is_admin
        assert TikTokService.load().client_key == "sbx_demo_client_key"
        # Unaudited, as a real operator preparing the audit (the composer still shows every
        # option; posts go out as "Only me").
        assert TikTokService.load().audited is False
