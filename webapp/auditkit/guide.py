"""The reviewer's demo guide as data: each step says what to do, the visible label to act on,
and what the reviewer should see. The Markdown and HTML guides, the mockup annotations and the
browser test that walks the guide all read this list, so a renamed button breaks the test
instead of silently misleading a reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.tiktok.composer import (
    BRANDED_CONTENT,
    BRANDED_NOT_PRIVATE,
    DECLARATION_BRANDED,
    DECLARATION_DEFAULT,
    DISCLOSE_LABEL,
    LABEL_PAID,
    LABEL_PROMOTIONAL,
    NEED_DISCLOSURE_CHOICE,
    PRIVACY_FIELD_LABEL,
    PROCESSING_NOTICE,
    YOUR_BRAND,
)


@dataclass(frozen=True)
class Step:
    """One step of the demo."""

    action: str  # what to do, in words
    label: str  # the visible label of the element to act on ("" when only looking)
    role: str  # how a browser finds it: link | button | option | checkbox | switch | page | none
    expect: str  # what the reviewer should see afterwards
    point: str = ""  # the guideline point it demonstrates ("1a", "2b", …)
    arrives: str = ""  # the page (Flask endpoint) this step leads to, for the Guide panel


STEPS: list[Step] = [
    Step(
        "Sign in with the demo email and password.",
        "Sign in",
        "button",
        "The Dashboard opens; the left menu shows Dashboard, Posts, Calendar, Accounts, Media.",
        arrives="dashboard.index",
    ),
    Step(
        "Open the Accounts page from the left menu.",
        "Accounts",
        "link",
        "The Accounts page.",
        arrives="accounts.index",
    ),
    Step(
        "Click “Add Account”.",
        "Add Account",
        "button",
        "A dialog lists the platforms Cadence can post to.",
    ),
    Step(
        "Click “TikTok”.",
        "TikTok",
        "button",
        "TikTok's authorization page opens in a new tab, asking for the posting scopes.",
    ),
    Step(
        "In the new tab, authorize the app (sign in to TikTok if asked).",
        "Authorize",
        "button",
        "The tab says the account is connected and can be closed; the first tab shows the "
        "account card with its avatar, nickname and @username, status “Connected”.",
    ),
    Step(
        "Click “Create Post” in the left menu.",
        "Create Post",
        "button",
        "The composer opens with the connected account's panel: its TikTok nickname and avatar, "
        "read from TikTok just now.",
        "1a",
        arrives="composer.create",
    ),
    Step(
        "Look at the untouched settings before changing anything.",
        PRIVACY_FIELD_LABEL,
        "none",
        f"“{PRIVACY_FIELD_LABEL}” has no option chosen; “Allow Comment”, “Allow Duet” and "
        f"“Allow Stitch” are unchecked; “{DISCLOSE_LABEL}” is off; the buttons are disabled "
        "and say why.",
        "2b",
    ),
    Step(
        "Choose the video under “Video to post”.",
        "Video to post",
        "none",
        "A player previews exactly the video that will be posted, beside the form.",
        "5a",
    ),
    Step(
        "Type a caption.",
        "Caption",
        "none",
        "The counter shows the characters used out of 2,200; the caption stays editable.",
        "2a",
    ),
    Step(
        f"Open “{PRIVACY_FIELD_LABEL}” and choose “Everyone”.",
        "Everyone",
        "option",
        "The options are exactly the account's own (e.g. Everyone, Friends, Only me).",
        "2b",
    ),
    Step(
        "Tick “Allow Comment”.",
        "Allow Comment",
        "checkbox",
        "Interactions the creator turned off in TikTok would be greyed out with the reason.",
        "2c",
    ),
    Step(
        f"Turn on “{DISCLOSE_LABEL}”.",
        DISCLOSE_LABEL,
        "switch",
        f"“{YOUR_BRAND}” and “{BRANDED_CONTENT}” appear, both unchecked; the buttons are "
        f"disabled and hovering them shows “{NEED_DISCLOSURE_CHOICE}”",
        "3a",
    ),
    Step(
        f"Tick “{YOUR_BRAND}”.",
        YOUR_BRAND,
        "checkbox",
        f"“{LABEL_PROMOTIONAL}” is shown; the declaration reads “{DECLARATION_DEFAULT}”",
        "3a, 4",
    ),
    Step(
        f"Tick “{BRANDED_CONTENT}” too.",
        BRANDED_CONTENT,
        "checkbox",
        f"“{LABEL_PAID}” is shown; “Only me” is disabled with “{BRANDED_NOT_PRIVATE}”; the "
        f"declaration reads “{DECLARATION_BRANDED}”",
        "3b, 4",
    ),
    Step(
        "Click “Post now” (or pick a time and click “Schedule”).",
        "Post now",
        "button",
        f"The post page opens and says: “{PROCESSING_NOTICE}”",
        "5c, 5d",
        arrives="posts.detail",
    ),
    Step(
        "Watch the status on the post page (it updates by itself).",
        "",
        "page",
        "Uploading with a progress bar, then processing on TikTok, then “Published”.",
        "5e",
    ),
    Step(
        "Click “Open on TikTok”.",
        "Open on TikTok",
        "button",
        "The post opens on TikTok.",
        "5e",
    ),
]


def markdown(steps: list[Step] = STEPS, *, demo_url: str = "", email: str = "") -> str:
    """Render the guide as numbered Markdown."""
    lines = ["# Demo guide", ""]
    if demo_url:
        lines += [f"Demo: {demo_url}" + (f" (sign in as {email})" if email else ""), ""]
    for number, step in enumerate(steps, 1):
        point = f" *(guideline point {step.point})*" if step.point else ""
        lines.append(f"{number}. {step.action}{point}")
        lines.append(f"   - You should see: {step.expect}")
    return "\n".join(lines) + "\n"
