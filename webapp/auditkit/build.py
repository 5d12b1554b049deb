"""Assemble the kit: answers, guide (Markdown and HTML), mockups PDF, readiness checklist."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from flask import current_app, render_template

from webapp.accounts.common import redirect_uri, tiktok_client
from webapp.auditkit import answers, guide, mockups, readiness
from webapp.extensions import get_redis
from webapp.models import AppSettings, AuditKit, TikTokService


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
        client=tiktok_client(),
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


def files() -> dict[str, bytes]:
    """Return the kit's files by name."""
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
        "ux-mockups.pdf": mockups.pdf(),
        "readiness.md": f"# Readiness checklist\n\n{checklist}\n".encode(),
    }


def write(out: Path) -> list[Path]:
    """Write the kit's files into a folder; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files().items():
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
