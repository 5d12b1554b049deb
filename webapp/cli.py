"""Command-line tools: `flask db ...`, `flask users ...`, `flask secrets rotate`, `flask demo seed`.

Errors end with a non-zero exit and one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from webapp import db as dbmod

db_cli = AppGroup("db", help="Database schema migrations.")
users_cli = AppGroup("users", help="Manage people's logins.")
secrets_cli = AppGroup("secrets", help="Encrypted secrets at rest.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    applied = dbmod.migrate(current_app.extensions["database"])
    click.echo("Applied: " + ", ".join(applied) if applied else "Database is up to date.")


@db_cli.command("status")
def db_status() -> None:
    """List migrations and whether each is applied (exit 1 when some are pending)."""
    rows = dbmod.migration_status(current_app.extensions["database"])
    for name, applied in rows:
        click.echo(
            f"[{'x' if applied else ' '}] {name}"
            + (f"  {applied:%Y-%m-%d %H:%M}" if applied else "")
        )
    if any(applied is None for _name, applied in rows):
        sys.exit(1)


@users_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--role", type=click.Choice(["admin", "member"]), default="member", show_default=True)
@click.option(
    "--password",
    envvar="CADENCE_NEW_PASSWORD",
    default=None,
    help="Password (or set CADENCE_NEW_PASSWORD); prompted for when omitted.",
)
def users_create(email: str, name: str, role: str, password: str | None) -> None:
    """Create a user who can sign in."""
    from webapp.people import RuleError, create_user

    if password is None:
        if not sys.stdin.isatty():
            _fail("no password given: pass --password or set CADENCE_NEW_PASSWORD")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with dbmod.connected():
        try:
            user = create_user(email, password, role=role, name=name)
        except RuleError as exc:
            _fail(str(exc))
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("list")
def users_list() -> None:
    """List users with role and status."""
    from webapp.models import User

    with dbmod.connected():
        for user in User.select().order_by(User.email):
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.email}\t{user.role}\t{state}")


@secrets_cli.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the current SECRET_KEY."""
    from webapp import crypto
    from webapp.models import ENCRYPTED_COLUMNS

    ring = crypto.keyring()
    count = 0
    with dbmod.connected() as database, database.atomic():
        for model, column in ENCRYPTED_COLUMNS:
            field = getattr(model, column)
            for row in model.select(model.id, field).where(field.is_null(False)):
                try:
                    rotated = ring.rotate(getattr(row, column))
                except crypto.SecretUnreadable as exc:
                    _fail(str(exc))
                model.update({field: rotated}).where(model.id == row.id).execute()
                count += 1
    click.echo(f"Re-encrypted {count} secret(s) with the current SECRET_KEY.")


audit_cli = AppGroup("audit-kit", help="TikTok's Direct Post audit kit.")


@audit_cli.command("build")
@click.option("--out", "out", default="audit-kit", show_default=True, help="Folder to write to.")
@click.option(
    "--mockups/--no-mockups",
    default=True,
    show_default=True,
    help="Shoot the UX mockups PDF (about a minute: Chromium, the sandbox, a throwaway Cadence); "
    "without it the latest PDF built in Admin → Audit Kit is copied, if any.",
)
def audit_build(out: str, mockups: bool) -> None:
    """Write the answers, demo guide, UX mockups PDF and readiness checklist into a folder."""
    import shutil
    from pathlib import Path

    from flask import current_app

    from webapp.auditkit import build
    from webapp.auditkit.mockups import MockupError
    from webapp.auditkit.stage import StageError
    from webapp.db import connected

    folder = Path(out)
    try:
        with connected(), current_app.test_request_context(base_url=_base_url()):
            written = build.write(folder, with_mockups=not mockups)
            names = build.cover_names()
    except OSError as exc:
        raise click.ClickException(f"could not write the kit to {out}: {exc.strerror}") from None
    for path in written:
        click.echo(f"wrote {path}")
    if not mockups:
        return
    click.echo(
        "building the UX mockups: a throwaway Cadence (its own SQLite file, media folder and RQ "
        "worker) and the TikTok sandbox, driven in Chromium"
    )
    try:
        pdf = build.make_mockups(
            folder / build.MOCKUPS_NAME, dict(current_app.config), progress=click.echo, **names
        )
        # Kept for Admin → Audit Kit too (its zip holds the latest PDF).
        kept = build.mockups_file(Path(current_app.instance_path))
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, kept)
    except (MockupError, StageError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"could not write the mockups PDF: {exc}") from None
    except ImportError as exc:
        raise click.ClickException(
            f"the mockups need {exc.name} (pip install playwright pillow)"
        ) from None


@audit_cli.command("record")
@click.option("--base-url", required=True, help="The Cadence instance to record.")
@click.option("--out", "out", default="demo.mp4", show_default=True, help="MP4 file to write.")
@click.option("--email", default=None, help="Demo user (default: Audit Kit → demo email).")
@click.option("--password", default=None, help="Demo password (default: the Audit Kit's).")
@click.option(
    "--window/--headless",
    default=None,
    help="Show the browser (default: headless against the sandbox, a window against TikTok).",
)
@click.option(
    "--log",
    "log",
    default=None,
    help="Also write the timeline (steps, tooltips on screen) to this JSON file.",
)
def audit_record(
    base_url: str,
    out: str,
    email: str | None,
    password: str | None,
    window: bool | None,
    log: str | None,
) -> None:
    """Film Chromium following the demo guide: a 1280×720 MP4 screen recording."""
    from pathlib import Path

    from flask import current_app

    from webapp.auditkit.record import RecordError, record
    from webapp.db import connected
    from webapp.models import AuditKit, TikTokService

    with connected():
        kit = AuditKit.load()
        email = email or kit.demo_email
        password = password or kit.demo_password()
        service = TikTokService.load()
        auth = service.effective_auth_base_url(current_app.config)
    if not email or not password:
        raise click.ClickException("no demo email/password: fill in Admin Console → Audit Kit")
    if window is None:
        window = "tiktok.com" in auth  # a person must sign in to the real TikTok
    try:
        record(
            Path(out),
            email=email,
            password=password,
            base_url=base_url,
            audited=service.audited,
            headless=not window,
            log=Path(log) if log else None,
        )
    except RecordError as exc:
        raise click.ClickException(str(exc)) from None


def _base_url() -> str:
    from flask import current_app

    return current_app.config.get("PUBLIC_URL") or "http://localhost:5000"


def init_app(app: Flask) -> None:
    """Register the command groups."""
    from webapp.demo import demo_cli

    for group in (db_cli, users_cli, secrets_cli, demo_cli, audit_cli):
        app.cli.add_command(group)
