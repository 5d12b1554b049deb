"""Configuration: safe defaults in code, then `.env`, then the environment, then a test mapping.

Plain functions with no Flask import, so RQ jobs and CLI scripts read exactly the same
settings as the web app without building it.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("CADENCE_INSTANCE") or ROOT / "instance")

# Known publicly, so usable only where nothing real is at stake (debug, demo, test).
DEV_SECRET_KEY = "cadence-dev-secret-not-for-production"  # noqa: S105 - refused in production

DEFAULTS: dict[str, object] = {
    "APP_ENV": "production",  # production | development | demo | test
    "SECRET_KEY": DEV_SECRET_KEY,
    # Extra secret keys, newest first, still accepted for decrypting secrets during a rotation.
    "OLD_SECRET_KEYS": "",
    "DATABASE_URL": f"sqlite:///{INSTANCE / 'cadence.sqlite3'}",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "MEDIA_ROOT": str(INSTANCE / "media"),
    "TIKTOK_AUTH_BASE_URL": "https://www.tiktok.com",
    "TIKTOK_API_BASE_URL": "https://open.tiktokapis.com",
    # The address users reach Cadence at; the OAuth redirect URI is built from it.
    "PUBLIC_URL": "",
    "SESSION_COOKIE_SECURE": None,  # None: secure everywhere except debug/demo/test over http
    "PROXY_FIX": 0,  # number of trusted reverse proxies setting X-Forwarded-* headers
    "LOGIN_MAX_FAILURES_PER_EMAIL": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 20,
    "LOGIN_FAILURE_WINDOW": 900,
    "MAX_CONTENT_LENGTH": None,
    # Publishing: bytes per FILE_UPLOAD chunk (kept within TikTok's 5,242,880..64,000,000), and
    # how many RQ worker processes `python -m jobs.worker` runs.
    "UPLOAD_CHUNK_BYTES": 64_000_000,
    # Email for failures and posts needing attention (empty: in-app notifications only).
    "SMTP_URL": "",
    "MAIL_FROM": "",
    "WORKERS": 2,
    # Where uploads are probed and their cover frames made: "queue" (an RQ job, always so in
    # production, so a member can't tie up web workers) or "inline" (in the upload request,
    # for tests and development without a worker; ignored in production: see checks_inline).
    "MEDIA_CHECKS": "queue",
}

_INT_KEYS = {
    "PROXY_FIX",
    "LOGIN_MAX_FAILURES_PER_EMAIL",
    "LOGIN_MAX_FAILURES_PER_IP",
    "LOGIN_FAILURE_WINDOW",
    "UPLOAD_CHUNK_BYTES",
    "WORKERS",
}
_BOOL_KEYS = {"SESSION_COOKIE_SECURE"}


class ConfigError(RuntimeError):
    """The configuration is unsafe or unusable; the message is one line for operators."""


def _coerce(key: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    if key in _INT_KEYS:
        try:
            return int(value)
        except ValueError as exc:
            raise ConfigError(f"{key} must be a whole number, got {value!r}") from exc
    if key in _BOOL_KEYS:
        lowered = value.strip().lower()
        if lowered in {"", "auto"}:
            return None
        return lowered in {"1", "true", "yes", "on"}
    return value


def load(overrides: dict | None = None, env: dict | None = None) -> dict:
    """Return the settings: defaults, then `.env` (if any), then the environment, then overrides."""
    settings = dict(DEFAULTS)
    environ = os.environ if env is None else env
    dotenv_path = environ.get("CADENCE_DOTENV", str(ROOT / ".env"))
    layers: list[dict] = []
    if dotenv_path and Path(dotenv_path).is_file():
        layers.append({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    layers.append(dict(environ))
    for layer in layers:
        for key in DEFAULTS:
            if key in layer:
                settings[key] = layer[key]
            elif f"CADENCE_{key}" in layer:
                settings[key] = layer[f"CADENCE_{key}"]
    settings.update(overrides or {})
    for key in list(settings):
        settings[key] = _coerce(key, settings[key])
    return settings


def is_relaxed(settings: dict) -> bool:
    """Tell whether this is a non-production run where the dev secret is acceptable."""
    return settings.get("APP_ENV") in {"development", "demo", "test"} or bool(settings.get("DEBUG"))


def check(settings: dict) -> None:
    """Refuse to run production with a secret anyone can read in our source."""
    secret = str(settings.get("SECRET_KEY") or "")
    if not is_relaxed(settings):
        if not secret or secret == DEV_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is unset or the development default; set a long random SECRET_KEY "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) "
                "or APP_ENV=development for local use"
            )
        if len(secret) < 32:
            raise ConfigError("SECRET_KEY is too short; use at least 32 random characters")
    checks = settings.get("MEDIA_CHECKS", "queue")
    if checks not in {"queue", "inline"}:
        raise ConfigError(f"MEDIA_CHECKS must be queue or inline, got {checks!r}")
    if settings.get("APP_ENV") not in {"production", "development", "demo", "test"}:
        raise ConfigError(
            "APP_ENV must be production, development, demo or test, "
            f"got {settings.get('APP_ENV')!r}"
        )


def checks_inline(settings: dict) -> bool:
    """Tell whether uploads are checked in the request: only outside production, when asked."""
    return settings.get("MEDIA_CHECKS") == "inline" and settings.get("APP_ENV") in {
        "development",
        "demo",
        "test",
    }


def old_secret_keys(settings: dict) -> list[str]:
    """Return the retired secret keys listed in OLD_SECRET_KEYS (comma separated)."""
    raw = settings.get("OLD_SECRET_KEYS") or ""
    return [k.strip() for k in str(raw).split(",") if k.strip()]
