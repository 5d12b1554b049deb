"""Print the mockups: a cover, a contents page (points 1–5 → pages) and one landscape page per
state (the picture with its numbered callouts beside the quoted point), with WeasyPrint."""

from __future__ import annotations

import base64
import datetime as dt
import re

from markupsafe import escape

from webapp.auditkit.mockups.scenes import (
    AUDITED_WHY,
    POINT_TITLES,
    POINTS,
    STATES,
    UNAUDITED_WHY,
    Shot,
    State,
)

PAGE_CSS = """
@page { size: A4 landscape; margin: 9mm 10mm 10mm 10mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 7.5pt;
                        color: #777; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #1d2430; margin: 0; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
.cover { padding-top: 45mm; text-align: center; }
.cover h1 { font-size: 30pt; margin: 0 0 4mm; }
.cover .app { font-size: 16pt; color: #444; }
.cover .meta { margin-top: 14mm; font-size: 10pt; color: #555; line-height: 1.6; }
.contents h1 { font-size: 18pt; margin: 0 0 5mm; }
.contents table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
.contents td, .contents th { border-bottom: 1px solid #dde; padding: 2.2mm 2mm; text-align: left;
                             vertical-align: top; }
.contents td.pages { white-space: nowrap; font-weight: bold; }
.contents .line { margin-top: 1mm; font-size: 8.5pt; }
.contents .pg { display: inline-block; width: 11mm; color: #fe2c55; font-weight: bold; }
.contents .sub { color: #777; }
.state { position: relative; height: 190mm; }
.state header { height: 11mm; border-bottom: 2px solid #fe2c55; margin-bottom: 3mm; }
.state header h2 { font-size: 14pt; margin: 0; display: inline; }
.state header .pts { float: right; font-size: 10pt; color: #fe2c55; font-weight: bold;
                     padding-top: 1.5mm; }
.shot { position: absolute; left: 0; top: 15mm; border: 1px solid #c8ccd4; }
.shot img { display: block; width: 100%; height: 100%; }
.box { position: absolute; border: 0.6mm solid #fe2c55; border-radius: 1mm; }
.num { position: absolute; width: 5.2mm; height: 5.2mm; border-radius: 2.6mm; background: #fe2c55;
       color: #fff; font-weight: bold; font-size: 8pt; text-align: center; line-height: 5.2mm; }
.side { position: absolute; right: 0; top: 15mm; width: 92mm; font-size: 7.8pt; }
.side h3 { font-size: 8pt; text-transform: uppercase; letter-spacing: .04em; color: #667;
           margin: 0 0 1.5mm; }
.side blockquote { margin: 0 0 2mm; padding: 1.5mm 2.5mm; background: #f4f5f8;
                   border-left: 1mm solid #25f4ee; font-size: 7.4pt; }
.side blockquote b { color: #000; }
.side p { margin: 0 0 3mm; line-height: 1.3; }
.side ol { margin: 0 0 3.5mm; padding: 0; list-style: none; }
.side ol li { margin: 0 0 1.4mm; }
.side ol li .n { display: inline-block; width: 4.4mm; height: 4.4mm; border-radius: 2.2mm;
                 background: #fe2c55; color: #fff; font-weight: bold; font-size: 7pt;
                 text-align: center; line-height: 4.4mm; margin-right: 1.5mm; }
.side ul.words { margin: 0 0 3.5mm; padding-left: 4mm; }
.side ul.words li { margin: 0 0 1mm; font-family: "DejaVu Sans Mono", monospace; font-size: 6.9pt; }
.side.compact { font-size: 7.4pt; }
.side.compact blockquote { font-size: 6.9pt; margin-bottom: 1.5mm; padding: 1.2mm 2.2mm; }
.side.compact p, .side.compact ol, .side.compact ul.words { margin-bottom: 2mm; }
.side.compact ul.words li { font-size: 6.6pt; margin-bottom: .5mm; }
.mode { font-size: 7.5pt; color: #555; border-top: 1px solid #dde; padding-top: 2mm; }
"""
SHOT_MAX_W, SHOT_MAX_H = 176.0, 172.0  # mm


def how_drawn(state: State) -> str:
    """Say how the page was drawn (audited or not, and why)."""
    return state.why or (AUDITED_WHY if state.audited else UNAUDITED_WHY)


def _first_sentence(text: str) -> str:
    """Return text's first sentence, with an ellipsis when there is more."""
    head = re.split(r"(?<=\.)\s", text, maxsplit=1)
    return head[0] + (" …" if len(head) > 1 else "")


def _state_page(number: int, shot: Shot) -> str:
    state = shot.state
    w_px, h_px = shot.size
    scale = min(SHOT_MAX_W / w_px, SHOT_MAX_H / h_px)  # mm per pixel
    width, height = w_px * scale, h_px * scale

    data = base64.b64encode(shot.jpeg).decode()
    boxes, placed = [], []
    for c in shot.callouts:
        x, y, w, h = (v * scale for v in c.box)
        pad = 0.8
        boxes.append(
            f'<div class="box" style="left:{x - pad:.1f}mm;top:{y - pad:.1f}mm;'
            f'width:{w + 2 * pad:.1f}mm;height:{h + 2 * pad:.1f}mm"></div>'
        )
        # The number sits outside the box's top-left corner; where another number already is,
        # it moves to the box's right side, then below, kept inside the picture.
        for nx, ny in (
            (x - 6.2, y - 3),
            (x + w + 1, y - 1),
            (x - 6.2, y + h - 4),
            (x + w + 1, y + 4),
        ):
            nx, ny = min(max(nx, 0.3), width - 5.5), min(max(ny, 0.3), height - 5.5)
            if all(abs(nx - px) > 5.6 or abs(ny - py) > 5.6 for px, py in placed):
                break
        placed.append((nx, ny))
        boxes.append(f'<div class="num" style="left:{nx:.1f}mm;top:{ny:.1f}mm">{c.number}</div>')
    # A page proving many points quotes its first one whole and the others' first sentence
    # (each has a page of its own where it is quoted whole).
    compact = len(state.points) > 2
    quotes = "".join(
        f"<blockquote><b>Point {p}.</b> "
        f"{escape(_first_sentence(POINTS[p]) if compact and i else POINTS[p])}</blockquote>"
        for i, p in enumerate(state.points)
    )
    legend = "".join(
        f'<li><span class="n">{c.number}</span>{escape(c.label)}</li>' for c in shot.callouts
    )
    words = "".join(f"<li>{escape(s)}</li>" for s in state.strings)
    return (
        f'<section class="state"><header><h2>{escape(state.title)}</h2>'
        f'<span class="pts">Guideline point {", ".join(state.points)}</span></header>'
        f'<div class="shot" style="width:{width:.1f}mm;height:{height:.1f}mm">'
        f'<img src="data:image/jpeg;base64,{data}" alt="">{"".join(boxes)}</div>'
        f'<div class="side{" compact" if compact else ""}"><h3>The guideline</h3>{quotes}'
        f"<h3>What to notice</h3><p>{escape(state.notice)}</p>"
        f"<h3>Callouts</h3><ol>{legend}</ol>"
        f'<h3>TikTok wording on this page</h3><ul class="words">{words}</ul>'
        f'<p class="mode">{escape(how_drawn(state))}</p></div>'
        f"</section>"
    )


def contents_rows(first_page: int = 3) -> list[tuple[str, str, list[int]]]:
    """Return (point, title, page numbers) for points 1–5, from the states' points."""
    rows = []
    for point, title in POINT_TITLES.items():
        pages = [
            first_page + i
            for i, state in enumerate(STATES)
            if any(p == point or p.rstrip("abcde") == point for p in state.points)
        ]
        rows.append((point, title, pages))
    return rows


def document(shots: list[Shot], *, app_name: str, instance: str = "", when=None) -> str:
    """Return the mockups as one HTML document (cover, contents, a page per state)."""
    when = when or dt.date.today()
    cover = (
        f'<section class="cover"><h1>Direct Post UX mockups</h1>'
        f'<p class="app">{escape(app_name)}</p><p class="meta">'
        + (f"{escape(instance)}<br>" if instance else "")
        + f"{when:%d %B %Y}<br>Pictures of the running app, driven in Chromium against a "
        "TikTok sandbox: nothing here is drawn by hand.</p></section>"
    )
    rows = "".join(
        f"<tr><td><b>Point {p}</b></td><td><b>{escape(title)}</b>"
        + "".join(
            f'<div class="line"><span class="pg">p. {n}</span> {escape(STATES[n - 3].title)}'
            f' <span class="sub">({", ".join(q for q in STATES[n - 3].points if q[0] == p)})'
            "</span></div>"
            for n in pages
        )
        + f'</td><td class="pages">{", ".join(str(n) for n in pages)}</td></tr>'
        for p, title, pages in contents_rows()
    )
    contents = (
        '<section class="contents"><h1>Contents</h1><table><tr><th>Guideline</th><th>What it '
        f"covers, page by page</th><th>Pages</th></tr>{rows}</table></section>"
    )
    pages = "".join(_state_page(i + 3, s) for i, s in enumerate(shots))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(app_name)} — Direct "
        f"Post UX mockups</title><style>{PAGE_CSS}</style></head><body>{cover}{contents}{pages}"
        "</body></html>"
    )


def render(shots: list[Shot], *, app_name: str, instance: str = "") -> bytes:
    """Print the mockups to PDF bytes with WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=document(shots, app_name=app_name, instance=instance)).write_pdf()
