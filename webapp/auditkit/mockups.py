"""The UX mockups: one page per state TikTok's reviewers check, drawn by the real templates from
the real composer decision (demo data, no TikTok call), annotated with the guideline point it
proves, and printed to PDF with WeasyPrint."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from flask import current_app, render_template
from markupsafe import escape

from webapp.composer.views import _declaration_parts
from webapp.tiktok.composer import (
    BRANDED_NOT_PRIVATE,
    NEED_DISCLOSURE_CHOICE,
    PROCESSING_NOTICE,
    Choices,
    Creator,
    MediaFacts,
    decide,
)

DEMO_ACCOUNT = SimpleNamespace(
    id=1,
    display_name="Maya Rivers",
    username="maya.rivers",
    avatar_url="",
    status="connected",
    status_label="Connected",
    status_reason="",
    last_checked_at=None,
)
OPEN = Creator(
    nickname="Maya Rivers",
    username="maya.rivers",
    privacy_options=("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
    max_duration_sec=600,
)
RESTRICTED = Creator(
    nickname="Kenji (private)",
    username="kenji.private",
    privacy_options=("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
    duet_disabled=True,
    stitch_disabled=True,
    max_duration_sec=300,
)
VIDEO = MediaFacts(kind="video", duration_ms=24_000)


@dataclass
class State:
    """One mockup page."""

    title: str
    point: str  # the guideline point(s) it proves
    note: str  # what the reviewer should notice
    must_show: list[str] = field(default_factory=list)  # strings the page must carry verbatim
    html: str = ""


def _composer(title, point, note, *, creator=OPEN, must_show=(), **choices) -> State:
    choices.setdefault("caption", "Spring collection, first look #newin")
    decision = decide(
        creator=creator,
        media=VIDEO,
        post_type="video",
        share_type="direct_post",
        audited=True,
        choices=Choices(**choices),
    )
    data = SimpleNamespace(
        choices={1: Choices(**choices)}, schedule_at="", caption=choices["caption"]
    )
    account = SimpleNamespace(**{**DEMO_ACCOUNT.__dict__, "display_name": creator.nickname})
    panel = render_template("composer/_panel.html", account=account, d=decision, data=data)
    declaration = _declaration_parts(decision.declaration, decision.declaration_links)
    actions = render_template(
        "composer/_actions.html",
        declaration=declaration,
        allowed=decision.allowed,
        hover=decision.hover,
        zone=SimpleNamespace(key="Europe/Paris"),
        data=data,
        warnings=[],
        reasons=decision.errors,
        oob=False,
    )
    opened = "".join(
        f"<li>{o.label}{' — chosen' if o.selected else ''}"
        f"{' — disabled: ' + o.reason if o.disabled else ''}</li>"
        for o in decision.privacy
    )
    dropdown = (
        f'<div class="dropdown"><small>“Who can view this video”, opened:</small><ul>{opened}</ul>'
        "</div>"
        if opened
        else ""
    )
    hover = (
        f'<p class="hover-note">Hovering “Post now” shows: “{decision.hover}”</p>'
        if decision.hover
        else ""
    )
    preview = (
        '<div class="preview-box">Video preview: the exact file that will be posted '
        "(24 s, 1080×1920)</div>"
    )
    html = (
        f'<div class="mock-composer"><div>{preview}</div><div><label>Caption</label>'
        f'<div class="caption-box">{escape(data.caption)}</div>'
        f"{panel}{dropdown}{actions}{hover}</div></div>"
    )
    return State(title, point, note, list(must_show), html)


def states() -> list[State]:
    """Return every state, rendered (needs an app and a request context)."""
    card = render_template("accounts/_card.html", account=DEMO_ACCOUNT, missing={1: []})
    published = SimpleNamespace(
        id=1,
        status="published",
        phase="",
        status_label="Published",
        account=DEMO_ACCOUNT,
        public_url="https://www.tiktok.com/@maya.rivers/video/7300000000000000001",
        error_message="",
        retryable=False,
        publish_id="v_pub_file~v2-1.7300000000000000001",
        progress_percent=100,
        privacy_level="PUBLIC_TO_EVERYONE",
    )
    post = SimpleNamespace(
        id=1,
        status="published",
        status_label="Published",
        scheduled_at=dt.datetime(2026, 11, 25, 9, 0),
        post_type="video",
        author_id=0,
    )
    # The same post a moment earlier, while TikTok processes it.
    processing = SimpleNamespace(
        **{
            **published.__dict__,
            "status": "publishing",
            "phase": "processing",
            "status_label": "Publishing",
            "public_url": "",
        }
    )
    processing_post = SimpleNamespace(
        **{**post.__dict__, "status": "publishing", "status_label": "Publishing"}
    )

    def status_page(target, live_message, shown=post):
        return render_template(
            "posts/_status.html",
            post=shown,
            targets=[target],
            live=False,
            live_message=live_message,
            zone=SimpleNamespace(key="UTC"),
            to_local=lambda moment, zone: moment,
        )

    from webapp.publishing import live_message

    return [
        State(
            "A connected TikTok account",
            "1a",
            "The account connected through TikTok's authorization: avatar, nickname, @username.",
            ["maya.rivers", "Connected"],
            card,
        ),
        _composer(
            "The composer, untouched",
            "1a, 2b, 2c, 3a, 4",
            "No visibility chosen, every interaction unchecked, disclosure off; the buttons are "
            "disabled and say why. The creator's nickname is shown.",
            must_show=[
                "Who can view this video",
                "Allow Comment",
                "Allow Duet",
                "Allow Stitch",
                "Disclose post content",
                "Maya Rivers",
            ],
        ),
        _composer(
            "Visibility chosen, comments allowed",
            "2b, 2c",
            "The options are exactly the creator's (Everyone, Friends, Only me).",
            must_show=["Everyone", "Friends", "Only me"],
            privacy="PUBLIC_TO_EVERYONE",
            allow_comment=True,
        ),
        _composer(
            "A creator who turned duets and stitches off",
            "2c",
            "“Allow Duet” and “Allow Stitch” are greyed out with the reason; the options are "
            "this private account's own.",
            creator=RESTRICTED,
            must_show=["Duets are turned off", "Stitches are turned off", "Followers"],
            privacy="FOLLOWER_OF_CREATOR",
        ),
        _composer(
            "Disclosure on, nothing ticked",
            "3a",
            "Both choices unchecked; publishing is disabled and the hover text explains why.",
            must_show=["Your brand", "Branded content", NEED_DISCLOSURE_CHOICE],
            privacy="PUBLIC_TO_EVERYONE",
            disclose=True,
        ),
        _composer(
            "Your brand",
            "3a, 4",
            "The post will be labeled 'Promotional content'; the default declaration.",
            must_show=[
                "Your photo/video will be labeled as 'Promotional content'",
                "By posting, you agree to TikTok's Music Usage Confirmation.",
            ],
            privacy="PUBLIC_TO_EVERYONE",
            disclose=True,
            your_brand=True,
        ),
        _composer(
            "Branded content: “Only me” disabled",
            "3b, 4",
            "Paid partnership label; “Only me” can't be chosen; the branded declaration.",
            must_show=[
                "Your photo/video will be labeled as 'Paid partnership'",
                BRANDED_NOT_PRIVATE,
                "By posting, you agree to TikTok's Branded Content Policy and Music Usage "
                "Confirmation.",
            ],
            privacy="PUBLIC_TO_EVERYONE",
            disclose=True,
            branded_content=True,
        ),
        State(
            "After “Post now”: processing",
            "5d, 5e",
            "The user is told processing can take a few minutes; the status updates by itself.",
            [PROCESSING_NOTICE],
            status_page(processing, live_message, processing_post),
        ),
        State(
            "Published, with its link",
            "5e",
            "TikTok's status is shown; the public post opens with “Open on TikTok”.",
            ["Published", "Open on TikTok"],
            status_page(published, live_message),
        ),
    ]


PRINT_CSS = """
@page { size: A4 portrait; margin: 10mm; }
body { font-family: sans-serif; font-size: 8pt; color: #222; line-height: 1.25; }
input[type=hidden] { display: none; }
p { margin: 2px 0; }
section.state { page-break-after: always; }
section.state:last-child { page-break-after: auto; }
.annotation { border-left: 4px solid #0a7; padding: 4px 10px; background: #eefaf5;
              margin-bottom: 10px; }
.annotation b { color: #075; }
.mock-composer { display: table; width: 100%; }
.mock-composer > div { display: table-cell; vertical-align: top; }
.preview-box { width: 120px; height: 210px; background: #111; color: #eee; padding: 6px;
               font-size: 7.5pt; margin-right: 12px; }
.caption-box { border: 1px solid #ccc; padding: 4px; margin-bottom: 8px; }
article { border: 1px solid #ddd; border-radius: 6px; padding: 8px; margin: 6px 0; }
label { display: block; margin: 3px 0; }
.greyed { color: #999; }
.muted, small { color: #666; font-size: 7.5pt; display: block; }
ul { margin: 2px 0; padding-left: 16px; }
.content-label { font-weight: bold; }
.declaration { font-style: italic; }
button, a[role=button] { display: inline-block; border: 1px solid #555; border-radius: 4px;
                         padding: 3px 10px; margin-right: 6px; color: #222;
                         text-decoration: none; }
button[disabled] { color: #aaa; border-color: #ccc; }
.hover-note { background: #333; color: #fff; padding: 4px 8px; display: inline-block; }
select { min-width: 200px; }
.badge { border: 1px solid #0a7; border-radius: 8px; padding: 0 6px; }
"""


def document(app_name: str = "Cadence") -> tuple[str, list[State]]:
    """Return the mockup document as HTML, and its states."""
    pages = states()
    body = "".join(
        f'<section class="state"><div class="annotation"><b>Guideline point {s.point}</b> — '
        f"{s.title}<br>{s.note}</div>{s.html}</section>"
        for s in pages
    )
    # Form controls print as what they show: options become a list with the chosen one marked.
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{app_name} — Direct Post "
        f"UX mockups</title><style>{PRINT_CSS}</style></head><body>{body}</body></html>"
    )
    return html, pages


def pdf(out: Path | None = None) -> bytes:
    """Render the mockups to PDF (bytes; also written to `out` when given)."""
    from weasyprint import HTML

    html, _ = document()
    data = HTML(string=html, base_url=str(Path(current_app.root_path).parent)).write_pdf()
    if out is not None:
        out.write_bytes(data)
    return data
