"""The audit kit's long work: shooting the UX mockups PDF, for Admin → Audit Kit."""

from __future__ import annotations

from pathlib import Path

from jobs import context, current_job
from webapp.auditkit import build as kit
from webapp.auditkit.mockups import MockupError
from webapp.auditkit.stage import StageError
from webapp.db import connected


def build_mockups() -> dict:
    """Build the mockups PDF into the instance folder; report each step in job.meta."""
    settings = context.settings()
    job = current_job()

    def progress(line: str) -> None:
        if job is not None:
            job.meta["progress"] = line
            job.meta["lines"] = job.meta.get("lines", 0) + 1
            job.save_meta()

    with connected():
        names = kit.cover_names()
    out = kit.mockups_file(Path(settings["INSTANCE"]))
    try:
        kit.make_mockups(out, settings, progress=progress, **names)
    except (MockupError, StageError) as exc:
        if job is not None:
            job.meta["error"] = str(exc)
            job.save_meta()
        return {"error": str(exc)}
    return {"path": str(out), "bytes": out.stat().st_size}
