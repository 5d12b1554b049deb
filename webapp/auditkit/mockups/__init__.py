"""The UX mockups PDF: one landscape page per state TikTok's reviewers check, each a screenshot of
the real app driven in Chromium against the sandbox (see stage.py), with numbered callouts
boxing what matters (boxes measured from the DOM when the picture is taken), the guideline
point quoted from our spec, what the reviewer should notice, and TikTok's wording as text.
Printed with WeasyPrint (landscape A4) after a cover and a contents page.

states.py says what each page shows, script.py walks the app through them with camera.py's
Director taking the pictures, and pdf.py prints them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from webapp.auditkit.mockups.pdf import contents_rows, document, how_drawn, render
from webapp.auditkit.mockups.scenes import STATES, MockupError, Shot, State
from webapp.auditkit.mockups.script import shoot

__all__ = [
    "STATES",
    "MockupError",
    "Shot",
    "State",
    "build",
    "contents_rows",
    "document",
    "how_drawn",
    "render",
    "shoot",
]


def build(
    out: Path,
    *,
    redis_url: str,
    app_name: str,
    instance: str = "",
    progress: Callable[[str], None] = print,
) -> Path:
    """Set up the stage, shoot every state, and write the PDF to out; return its path."""
    from webapp.auditkit.record import RecordError, chromium_path
    from webapp.auditkit.stage import Stage

    try:
        chromium = chromium_path()
    except RecordError as exc:
        raise MockupError(str(exc)) from None
    with Stage(redis_url=redis_url, app_name=app_name, progress=progress) as stage:
        shots = shoot(stage, progress, chromium)
    progress("printing the PDF")
    data = render(shots, app_name=app_name, instance=instance)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(data)
    partial.replace(out)
    progress(f"wrote {out} ({len(data) / 1e6:.1f} MB, {len(shots) + 2} pages)")
    return out
