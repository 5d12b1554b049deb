"""Configuration: defaults, `.env`, environment, and refusing unsafe production settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("secret", [cfg.DEV_SECRET_KEY, "", "short"])
def test_production_refuses_a_weak_or_default_secret(secret):
    with pytest.raises(SystemExit, match="Cadence can't start: SECRET_KEY"):
        create_app(
            {"APP_ENV": "production", "SECRET_KEY": secret, "DATABASE_URL": "sqlite:///:memory:"}
        )


@pytest.mark.parametrize("env", ["development", "demo", "test"])
def test_dev_secret_is_allowed_outside_production(env):
    app = create_app(
        {"APP_ENV": env, "SECRET_KEY": cfg.DEV_SECRET_KEY, "DATABASE_URL": "sqlite:///:memory:"}
    )
    assert app.config["SECRET_KEY"] == cfg.DEV_SECRET_KEY


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
