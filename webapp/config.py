"""Configuration: safe defaults in code, then `.env`, then the environment, then a test mapping.

Plain functions with no Flask import, so RQ jobs and CLI scripts read exactly the same
settings as the web app without building it.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("CADENCE_INSTANCE") or ROOT / "instance")

# Where a non-production instance keeps the SECRET_KEY it generated for itself.
SECRET_KEY_FILE = "secret-key"  # noqa: S105 - a file name, not a secret
log = logging.getLogger(__name__)

DEFAULTS: dict[str, object] = {
    "APP_ENV": "production",  # production | development | demo | test
    # Unset: production refuses to start; elsewhere a key is generated under INSTANCE.
    "SECRET_KEY": "",
    # Extra secret keys, newest first, still accepted for decrypting secrets during a rotation.
    "OLD_SECRET_KEYS": "",
    # Folder for this instance's own files (generated secret key, demo login, default SQLite).
    "INSTANCE": str(INSTANCE),
    "DATABASE_URL": f"sqlite:///{INSTANCE / 'cadence.sqlite3'}",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "MEDIA_ROOT": str(INSTANCE / "media"),
    "TIKTOK_AUTH_BASE_URL": "https://www.tiktok.com",
    "TIKTOK_API_BASE_URL": "https://open.tiktokapis.com",
    # The address users reach Cadence at; the OAuth redirect URI is built from it.
    "PUBLIC_URL": "",
    "SESSION_COOKIE_SECURE": None,  # None: secure everywhere except debug/demo/test over http
    "PROXY_FIX": 0,  # number of trusted reverse proxies setting X-Forwarded-* headers
    # Sign-in throttle (webapp/auth/throttle.py): failures for one email from one IP address,
    # failures from one IP address, both over the window; failures for one email from anywhere
    # per minute (a rate: the owner waits at most the rest of that minute).
    "LOGIN_MAX_FAILURES_PER_EMAIL": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 20,
    "LOGIN_FAILURE_WINDOW": 900,
    "LOGIN_EMAIL_FAILURES_PER_MINUTE": 10,
    "MAX_CONTENT_LENGTH": None,
    # Publishing: bytes per FILE_UPLOAD chunk (kept within TikTok's 5,242,880..64,000,000), and
    # how many RQ worker processes `python -m jobs.worker` runs.
    "UPLOAD_CHUNK_BYTES": 64_000_000,
    # Email for failures and posts needing attention (empty: in-app notifications only).
    "SMTP_URL": "",
    "MAIL_FROM": "",
    # A PEM file of the CA(s) that signed the SMTP server's certificate, for a private CA.
    "SMTP_CA_FILE": "",
    # A PEM file of the CA(s) that the readiness check's URL probes trust instead of the bundled
    # list, for an instance whose pages sit behind a private CA (a staging copy, the tests).
    "URL_CHECK_CA_FILE": "",
    "WORKERS": 2,
    # The Redis DB of the audit kit's throwaway app (the mockup build); empty: the server of
    # REDIS_URL with the next DB index. It must be empty; the build empties it again.
    "AUDIT_KIT_REDIS_URL": "",
    # Where uploads are probed and their cover frames made: "queue" (an RQ job, always so in
    # production, so a member can't tie up web workers) or "inline" (in the upload request,
    # for tests and development without a worker; ignored in production: see checks_inline).
    "MEDIA_CHECKS": "queue",
    # How new passwords are hashed (a werkzeug method name). Only APP_ENV=test may pick another:
    # the test suite uses a cheap one so fixtures don't spend a scrypt per user (see
    # password_hash_method); everywhere else it is scrypt.
    "PASSWORD_HASH_METHOD": "scrypt",
}

_INT_KEYS = {
    "PROXY_FIX",
    "LOGIN_MAX_FAILURES_PER_EMAIL",
    "LOGIN_MAX_FAILURES_PER_IP",
    "LOGIN_FAILURE_WINDOW",
    "LOGIN_EMAIL_FAILURES_PER_MINUTE",
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
    """Tell whether this is a non-production run (generated secret key, cookies over http)."""
    return settings.get("APP_ENV") in {"development", "demo", "test"} or bool(settings.get("DEBUG"))


def behind_tls(settings: dict) -> bool:
    """Tell whether browsers reach Cadence over https (Secure cookies, HSTS)."""
    secure = settings.get("SESSION_COOKIE_SECURE")
    if secure is None:
        # Demo and tests run on plain http://127.0.0.1; everything else is assumed to be https.
        return not is_relaxed(settings)
    return bool(secure)


def instance_secret_key(instance: Path) -> str:
    """Return the SECRET_KEY kept in instance/, generating it (mode 0600) on first use."""
    path = Path(instance) / SECRET_KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: a web process
        # and a worker starting together never read a half-written key or keep two keys.
        tmp = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            os.link(tmp, path)
            log.warning(
                "No SECRET_KEY set: generated one for this instance in %s (kept for later "
                "starts; set SECRET_KEY to use your own)",
                path,
            )
        except FileExistsError:
            pass  # another process generated it first; use theirs
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def fill_secret_key(settings: dict) -> None:
    """Give a non-production run without SECRET_KEY its instance's own generated key."""
    if not settings.get("SECRET_KEY") and is_relaxed(settings):
        instance = Path(str(settings["INSTANCE"]))
        try:
            settings["SECRET_KEY"] = instance_secret_key(instance)
        except OSError as exc:
            raise ConfigError(
                f"no SECRET_KEY set and none can be kept in {instance}: {exc.strerror}; "
                "set SECRET_KEY or make that folder writable"
            ) from None


def check(settings: dict) -> None:
    """Refuse to run production without a long secret key of its own, or with unusable mail."""
    secret = str(settings.get("SECRET_KEY") or "")
    if not is_relaxed(settings):
        if not secret:
            raise ConfigError(
                "SECRET_KEY is unset; set a long random SECRET_KEY "
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
    _check_smtp(settings)


def _check_smtp(settings: dict) -> None:
    smtp_url = str(settings.get("SMTP_URL") or "")
    if smtp_url and smtp_url.split("://", 1)[0] not in {"smtp", "smtps"}:
        # The URL may hold a password: name the key, never echo the value.
        raise ConfigError("SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS)")
    for key in ("SMTP_CA_FILE", "URL_CHECK_CA_FILE"):
        ca_file = str(settings.get(key) or "")
        if ca_file and not Path(ca_file).is_file():
            raise ConfigError(f"{key} {ca_file!r} is not a readable file")


def checks_inline(settings: dict) -> bool:
    """Tell whether uploads are checked in the request: only outside production, when asked."""
    return settings.get("MEDIA_CHECKS") == "inline" and settings.get("APP_ENV") in {
        "development",
        "demo",
        "test",
    }


def password_hash_method(settings: dict) -> str:
    """Return the method for hashing new passwords: scrypt unless this is the test suite."""
    if settings.get("APP_ENV") == "test":
        return str(settings.get("PASSWORD_HASH_METHOD") or DEFAULTS["PASSWORD_HASH_METHOD"])
    return str(DEFAULTS["PASSWORD_HASH_METHOD"])


def old_secret_keys(settings: dict) -> list[str]:
    """Return the retired secret keys listed in OLD_SECRET_KEYS (comma separated)."""
    raw = settings.get("OLD_SECRET_KEYS") or ""
    return [k.strip() for k in str(raw).split(",") if k.strip()]


# --- The settings a process runs with ----------------------------------------------------------

_active: dict = {}


def activate(settings: dict) -> None:
    """Remember settings as this process's own (the web app's, or a worker's), for code that
    runs outside a request: webapp.tasks.connection() and the TikTok web address."""
    _active["settings"] = settings


def active() -> dict:
    """Return the settings this process activated (raises LookupError when none were)."""
    try:
        return _active["settings"]
    except KeyError:
        raise LookupError("no settings were activated in this process") from None


def prepare_process() -> dict:
    """Load and check the settings, bind the database, the keyring and mail, and activate them:
    what a worker or a script needs before it touches the database."""
    from webapp import crypto, mail
    from webapp import db as dbmod

    loaded = load()
    fill_secret_key(loaded)
    check(loaded)
    dbmod.bind(loaded["DATABASE_URL"])
    crypto.configure(loaded["SECRET_KEY"], old_secret_keys(loaded))
    mail.configure(loaded)
    activate(loaded)
    return loaded
