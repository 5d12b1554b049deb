"""Assemble the kit: answers, guide (Markdown and HTML), mockups PDF, readiness checklist.

The mockups take tens of seconds to shoot (see mockups.py), so the web app never builds them in
a request: Admin → Audit Kit queues jobs.auditkit.build_mockups, which keeps the latest PDF
under the instance folder, and the zip holds that file (or says it must be built first).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app, render_template

from webapp.addresses import redirect_uri
from webapp.auditkit import answers, guide, mockups, readiness
from webapp.auditkit.stage import stage_redis_url
from webapp.extensions import get_redis
from webapp.models import AppSettings, AuditKit, TikTokService
from webapp.tasks import MOCKUPS_JOB_ID
from webapp.tiktok.tokens import app_client

MOCKUPS_NAME = "ux-mockups.pdf"
MOCKUPS_MISSING = (
    "The UX mockups PDF hasn't been built yet. Build it in Admin Console → Audit Kit "
    "(“Build the mockups”) or with `flask audit-kit build`, then download the kit again.\n"
)


def mockups_file(instance: Path) -> Path:
    """Return where the latest mockups PDF is kept."""
    return Path(instance) / "audit-kit" / MOCKUPS_NAME


def cover_names() -> dict:
    """Return the names the mockups' cover shows (needs a database connection)."""
    settings = AppSettings.load()
    return {"app_name": settings.app_name, "instance": settings.website_url}


def make_mockups(
    out: Path, settings: dict, *, app_name: str, instance: str, progress: Callable[[str], None]
) -> Path:
    """Shoot the mockups with settings' Redis server (see stage.py) and write the PDF to out."""
    redis_url = stage_redis_url(settings["REDIS_URL"], settings.get("AUDIT_KIT_REDIS_URL") or "")
    return mockups.build(
        out, redis_url=redis_url, app_name=app_name, instance=instance, progress=progress
    )


def mockups_built(instance: Path) -> dict | None:
    """Describe the kept mockups PDF (when, size), or None when there is none."""
    path = mockups_file(instance)
    if not path.is_file():
        return None
    stat = path.stat()
    return {
        "at": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC),
        "megabytes": stat.st_size / 1e6,
    }


def mockups_job_state(redis) -> dict:
    """Return the mockup build's state for its widget: idle, running, failed or done."""
    from rq.exceptions import NoSuchJobError

    from webapp.tasks import fetch

    try:
        job = fetch(MOCKUPS_JOB_ID, redis)
    except NoSuchJobError:
        return {"state": "idle", "progress": "", "error": "", "stuck": False}
    status = job.get_status(refresh=True)
    meta = job.get_meta(refresh=True)
    error = meta.get("error", "")
    if status in ("queued", "started", "scheduled", "deferred"):
        state = "running"
    elif status == "finished" and not error:
        state = "done"
    elif status in ("finished", "failed", "stopped", "canceled"):
        state = "failed"
        error = error or "The build stopped in the worker; its log says why."
    else:
        state = "idle"
    queued_at = job.enqueued_at.replace(tzinfo=dt.UTC) if job.enqueued_at else None
    waited = (dt.datetime.now(dt.UTC) - queued_at).total_seconds() if queued_at else 0
    return {
        "state": state,
        "queued": status == "queued",
        "stuck": status == "queued" and waited > 30,
        "progress": meta.get("progress", ""),
        "error": error,
    }


def queue_mockups(redis) -> None:
    """Queue the mockup build (one at a time: a running build is reused)."""
    from webapp import tasks

    tasks.enqueue_mockups(redis)


def contents() -> dict:
    """Return everything the kit holds, keyed by what it is (needs a request context)."""
    kit = AuditKit.load()
    settings = AppSettings.load()
    service = TikTokService.load()
    uri = redirect_uri()
    text = kit.answers_edited or answers.build(kit, settings, service, redirect_uri=uri)
    checks = readiness.run(
        settings,
        service,
        redirect_uri=uri,
        demo_mode=current_app.config["APP_ENV"] == "demo",
        kit=kit,
        client=app_client(),
        redis=get_redis(),
        ca_file=str(current_app.config.get("URL_CHECK_CA_FILE") or ""),
    )
    return {
        "kit": kit,
        "answers": text,
        "guide_markdown": guide.markdown(
            service.audited, demo_url=kit.demo_url, email=kit.demo_email
        ),
        "steps": guide.steps(service.audited),
        "guide_note": guide.variant_note(service.audited),
        "checks": checks,
    }


def files(*, with_mockups: bool = True) -> dict[str, bytes]:
    """Return the kit's files by name (with the latest mockups PDF, or a note to build it)."""
    data = contents()
    guide_html = render_template(
        "admin/audit_guide_page.html",
        steps=data["steps"],
        guide_note=data["guide_note"],
        kit=data["kit"],
    )
    checklist = "\n".join(
        f"- [{'x' if c.state == 'ok' else ' '}] {c.label}" + (f" — {c.detail}" if c.detail else "")
        for c in data["checks"]
    )
    return {
        "answers.md": data["answers"].encode(),
        "demo-guide.md": data["guide_markdown"].encode(),
        "demo-guide.html": guide_html.encode(),
        "readiness.md": f"# Readiness checklist\n\n{checklist}\n".encode(),
        **(_mockups_entry() if with_mockups else {}),
    }


def _mockups_entry() -> dict[str, bytes]:
    path = mockups_file(Path(current_app.instance_path))
    if path.is_file():
        return {MOCKUPS_NAME: path.read_bytes()}
    return {"ux-mockups-README.txt": MOCKUPS_MISSING.encode()}


def write(out: Path, *, with_mockups: bool = True) -> list[Path]:
    """Write the kit's files into a folder; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files(with_mockups=with_mockups).items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written


def zipped() -> bytes:
    """Return the kit as one zip file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files().items():
            archive.writestr(f"audit-kit/{name}", data)
    return buffer.getvalue()
