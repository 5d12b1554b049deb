"""`flask demo seed`: a demo admin, settings, TikTok pointed at the sandbox, and sample media."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data for a local trial run.")

DEMO_EMAIL = "admin@cadence.demo"
# The sandbox's default app credentials (sandbox/README.md); only meaningful against the sandbox.
SANDBOX_CLIENT_KEY = "sbx_demo_client_key"
SANDBOX_CLIENT_SECRET = "sbx_demo_client_secret"  # noqa: S105 - public sandbox value
# The seed writes the values above, which anyone can read here; never into a real installation.
SEED_ENVS = ("demo", "development")

# (file name, ffmpeg arguments that make it); everything else comes from probing the result.
SAMPLES = [
    (
        "sample-vertical.mp4",
        "-f lavfi -i testsrc2=size=720x1280:rate=30:duration=6"
        " -f lavfi -i sine=frequency=440:duration=6"
        " -c:v libx264 -pix_fmt yuv420p -c:a aac -shortest -movflags +faststart",
    ),
    (
        "sample-photo.jpg",
        "-f lavfi -i testsrc2=size=864x1080:rate=1:duration=1 -frames:v 1 -q:v 3",
    ),
]


def demo_password(instance: Path) -> str:
    """Return the demo admin's password, generated once and kept under instance/."""
    path = instance / "demo-login.txt"
    if path.is_file():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    instance.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def _make_sample(media_root: Path, name: str, args: list[str]) -> Path:
    import imageio_ffmpeg

    target = media_root / "samples" / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args, str(target)]
        subprocess.run(cmd, check=True, timeout=120)
    return target


@demo_cli.command("seed")
@click.option("--auth-base-url", default=None, help="Point TikTok's authorization at this server.")
@click.option("--api-base-url", default=None, help="Point TikTok's API at this server.")
def seed(auth_base_url: str | None, api_base_url: str | None) -> None:
    """Create the demo admin, settings, sandbox service and sample media (safe to rerun)."""
    from webapp.db import connected
    from webapp.media.storage import store
    from webapp.models import AppSettings, Media, TikTokService, User
    from webapp.people import create_user

    app = current_app
    if app.config.get("APP_ENV") not in SEED_ENVS:
        raise click.ClickException(
            "demo seed adds an admin with a known email and the public sandbox secret, so it "
            f"runs only with APP_ENV=demo or development (APP_ENV is {app.config.get('APP_ENV')})"
        )
    password = demo_password(Path(app.instance_path))
    media_root = Path(app.config["MEDIA_ROOT"])
    with connected():
        admin = User.by_email(DEMO_EMAIL)
        if admin is None:
            admin = create_user(DEMO_EMAIL, password, role="admin", name="Demo Admin")
        settings = AppSettings.load()
        if not settings.website_url:
            settings.app_name = "Cadence"
            settings.save()
        service = TikTokService.load()
        if not service.client_key:
            service.client_key = SANDBOX_CLIENT_KEY
            service.set_client_secret(SANDBOX_CLIENT_SECRET)
            # Unaudited, as a real operator preparing the audit: the composer still shows every
            # option, and posts "Only me".
            service.audited = False
        if not service.media_url_prefix and app.config.get("PUBLIC_URL"):
            # Photo posts are pulled by TikTok; the demo sandbox trusts this app's /pull/ folder.
            service.media_url_prefix = app.config["PUBLIC_URL"].rstrip("/") + "/pull/"
        if auth_base_url:
            service.auth_base_url = auth_base_url.rstrip("/")
        if api_base_url:
            service.api_base_url = api_base_url.rstrip("/")
        service.save()
        for name, args in SAMPLES:
            if Media.get_or_none((Media.owner == admin.id) & (Media.original_name == name)):
                continue
            try:
                store(_make_sample(media_root, name, args.split()), name, admin.id)
            except (OSError, subprocess.SubprocessError, ValueError) as exc:
                click.echo(f"Warning: could not create sample {name}: {exc}", err=True)
    click.echo(f"Demo admin: {DEMO_EMAIL} / {password}", file=sys.stdout)
