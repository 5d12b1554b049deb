"""Configuration: defaults, `.env`, environment, and refusing unsafe production settings."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
import subprocess
import sys

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from tests.conftest import _empty_tables
from webapp import config as cfg
from webapp import create_app


def test_defaults_point_at_real_tiktok():
    settings = cfg.load(env={"CADENCE_DOTENV": ""})
    assert settings["TIKTOK_AUTH_BASE_URL"] == "https://www.tiktok.com"
    assert settings["TIKTOK_API_BASE_URL"] == "https://open.tiktokapis.com"
    assert (
        settings["DATABASE_URL"].startswith("sqlite:///")
        and "/instance/" in settings["DATABASE_URL"]
    )


def test_environment_overrides_dotenv_which_overrides_defaults(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("REDIS_URL=redis://dotenv:6379/1\nMEDIA_ROOT=/from/dotenv\n")
    env = {"CADENCE_DOTENV": str(dotenv), "REDIS_URL": "redis://env:6379/2"}
    settings = cfg.load(env=env)
    assert settings["REDIS_URL"] == "redis://env:6379/2"
    assert settings["MEDIA_ROOT"] == "/from/dotenv"


def test_prefixed_names_work_too():
    settings = cfg.load(env={"CADENCE_DOTENV": "", "CADENCE_PUBLIC_URL": "https://x.example"})
    assert settings["PUBLIC_URL"] == "https://x.example"


def test_bad_numbers_are_reported_by_name():
    with pytest.raises(cfg.ConfigError, match="PROXY_FIX must be a whole number"):
        cfg.load(env={"CADENCE_DOTENV": "", "PROXY_FIX": "two"})


@pytest.mark.parametrize("secret", ["", "short"])
def test_production_refuses_a_missing_or_weak_secret(secret, tmp_path):
    with pytest.raises(SystemExit, match="Cadence can't start: SECRET_KEY"):
        create_app(
            {
                "APP_ENV": "production",
                "SECRET_KEY": secret,
                "DATABASE_URL": "sqlite:///:memory:",
                "INSTANCE": str(tmp_path),
            }
        )
    assert not (tmp_path / cfg.SECRET_KEY_FILE).exists()  # production never makes one up


# The constant key earlier versions ran on outside production; anyone could read it.
OLD_PUBLISHED_KEY = "cadence-dev-secret-not-for-production"


def _unkeyed_app(instance, env="development", **extra):
    return create_app(
        {
            "APP_ENV": env,
            "SECRET_KEY": "",
            "DATABASE_URL": "sqlite:///:memory:",
            "INSTANCE": str(instance),
            **extra,
        }
    )


@pytest.mark.parametrize("env", ["development", "demo", "test"])
def test_secret_key_is_generated_per_instance_and_kept(env, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    first = _unkeyed_app(tmp_path / "a", env).config["SECRET_KEY"]
    other = _unkeyed_app(tmp_path / "b", env).config["SECRET_KEY"]
    assert first != other
    assert len(first) >= 32 and OLD_PUBLISHED_KEY not in (first, other)
    key_file = tmp_path / "a" / cfg.SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first
    said = [r.getMessage() for r in caplog.records if "generated" in r.getMessage()]
    assert len(said) == 2 and str(key_file) in said[0]  # once per instance, never the key
    assert not any(first in r.getMessage() or other in r.getMessage() for r in caplog.records)
    caplog.clear()
    assert _unkeyed_app(tmp_path / "a", env).config["SECRET_KEY"] == first  # a restart
    assert not [r for r in caplog.records if "generated" in r.getMessage()]


def test_secret_key_and_encrypted_secrets_survive_a_restart(settings, tmp_path):
    from webapp.models import TikTokService

    unkeyed = {**settings, "APP_ENV": "development", "SECRET_KEY": "", "INSTANCE": str(tmp_path)}
    first = create_app(unkeyed)
    with first.extensions["database"].connection_context():
        service = TikTokService.load()
        service.set_client_secret("kept-across-restarts")
        service.save()
    again = create_app(unkeyed)
    assert again.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    with again.extensions["database"].connection_context():
        assert TikTokService.load().client_secret() == "kept-across-restarts"


def _forged_cookies(key: str, user_id: str) -> tuple[str, str]:
    """Sign a session cookie and a remember-me cookie for user_id with key, as flask-login does."""
    forge = Flask("forge")
    forge.secret_key = key
    session = SecureCookieSessionInterface().get_signing_serializer(forge)
    digest = hmac.new(key.encode(), user_id.encode(), hashlib.sha512).hexdigest()
    return session.dumps({"_user_id": user_id, "_fresh": True}), f"{user_id}|{digest}"


def test_a_cookie_signed_with_the_old_development_key_is_rejected(settings, tmp_path):
    from tests.conftest import make_user

    app = create_app(
        {**settings, "APP_ENV": "development", "SECRET_KEY": "", "INSTANCE": str(tmp_path)}
    )
    with app.extensions["database"].connection_context():
        _empty_tables(app.extensions["database"])
        admin = make_user("admin@example.com", "admin")
    for key, signed_in in [(OLD_PUBLISHED_KEY, False), (app.config["SECRET_KEY"], True)]:
        session_cookie, remember_cookie = _forged_cookies(key, admin.get_id())
        cookies = [("cadence_session", session_cookie), ("remember_token", remember_cookie)]
        for name, value in cookies:
            client = app.test_client()
            client.set_cookie(name, value)
            # The app's own key proves the forgery is well made; the published one gets nowhere.
            # "/" leads a signed-in person into their workspace, anyone else to sign in.
            landed = client.get("/").headers["Location"]
            assert landed.startswith("/w/") is signed_in, (signed_in, name, landed)


def test_the_published_development_key_is_gone_from_the_code():
    for folder in ("webapp", "jobs", "scripts", "sandbox"):
        for path in (cfg.ROOT / folder).rglob("*.py"):
            assert OLD_PUBLISHED_KEY not in path.read_text(), path


def test_cli_refuses_to_start_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "APP_ENV"}}
    env.update(
        {
            "CADENCE_DOTENV": "",
            "APP_ENV": "production",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "db", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("Cadence can't start: SECRET_KEY")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SMTP_URL": "http://user:hunter2@mail.example.com"}, "SMTP_URL must start with smtp://"),
        ({"SMTP_CA_FILE": "/no/such/ca.pem"}, "SMTP_CA_FILE '/no/such/ca.pem' is not a readable"),
    ],
)
def test_smtp_settings_that_cannot_work_stop_the_start_without_echoing_the_password(
    override, message
):
    with pytest.raises(cfg.ConfigError, match=message) as raised:
        cfg.check(cfg.load({"APP_ENV": "test", **override}, env={"CADENCE_DOTENV": ""}))
    assert "hunter2" not in str(raised.value)
