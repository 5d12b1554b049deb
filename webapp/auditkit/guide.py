"""The reviewer's demo guide as data: each step says what to do, the visible label to act on,
and what the reviewer should see. The Markdown and HTML guides, the Guide panel, the browser walk
and the screen recorder all read `steps(audited)`, so a renamed button breaks the test instead of
silently misleading a reviewer.

The guide follows the Content Sharing Guidelines' points 1 → 5 and shows every interaction: a
visibility other than "Only me", Branded content greying out "Only me", "Only me" greying out
Branded content, disclosure with nothing ticked. Until TikTok audits the app it posts "Only me"
from a private demo account; an audited app ends with a post that can be shared more widely.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.tiktok.rules import (
    BRANDED_CONTENT,
    BRANDED_DISABLED_BY_PRIVATE,
    BRANDED_NOT_PRIVATE,
    DECLARATION_BRANDED,
    DECLARATION_DEFAULT,
    DISCLOSE_LABEL,
    INTERACTIONS,
    LABEL_PAID,
    LABEL_PROMOTIONAL,
    NEED_DISCLOSURE_CHOICE,
    PRIVACY_FIELD_LABEL,
    PRIVACY_LABELS,
    PROCESSING_NOTICE,
    UNAUDITED_NOTE,
    YOUR_BRAND,
)

COMMENT, _, _ = INTERACTIONS["comment"]
DUET, _, DUET_OFF = INTERACTIONS["duet"]
STITCH = INTERACTIONS["stitch"][0]
FRIENDS = PRIVACY_LABELS["MUTUAL_FOLLOW_FRIENDS"]
FOLLOWERS = PRIVACY_LABELS["FOLLOWER_OF_CREATOR"]
ONLY_ME = PRIVACY_LABELS["SELF_ONLY"]
EVERYONE = PRIVACY_LABELS["PUBLIC_TO_EVERYONE"]
# The demo caption: plain words, no brand name and nothing promotional (CSG point 5b).
CAPTION = "First look at the spring collection"


@dataclass(frozen=True)
class Step:
    """One step of the demo."""

    action: str  # what to do, in words
    label: str  # the visible label of the element to act on ("" when only looking)
    # How a browser finds and uses it: link | button | radio | checkbox (tick) | uncheck |
    # switch | hover (point at it; `tooltip` must show) | account (pick the demo account in
    # TikTok's tab) | field (video, caption) | look | page (watch the post's live status)
    role: str
    expect: str  # what the reviewer should see afterwards
    point: str = ""  # the guideline point it demonstrates ("1a", "2b", …)
    arrives: str = ""  # the page (Flask endpoint) this step leads to, for the Guide panel
    tooltip: str = ""  # hover steps: the in-page tooltip text that must show, verbatim
    only_when: str = ""  # "" (always) | "audited" | "unaudited"
    value: str = ""  # field steps: what to type (the caption)


ALL_STEPS: list[Step] = [
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
        "A dialog lists the platforms the app can post to.",
    ),
    Step(
        "Click “TikTok”.",
        "TikTok",
        "button",
        "TikTok's authorization page opens in a new tab, asking for the posting scopes.",
    ),
    Step(
        "In the new tab, sign in to TikTok with the private demo account.",
        "",
        "account",
        "TikTok shows the demo account: a private account, so its posts can be seen by "
        f"{FOLLOWERS}, {FRIENDS} or “{ONLY_ME}”, never {EVERYONE}.",
    ),
    Step(
        "Authorize the app.",
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
        f"Type a caption: “{CAPTION}”.",
        "Caption",
        "field",
        "The counter shows the characters used out of 2,200; the caption stays editable.",
        "2a",
        value=CAPTION,
    ),
    Step(
        "Look at the settings before changing anything.",
        PRIVACY_FIELD_LABEL,
        "look",
        f"“{PRIVACY_FIELD_LABEL}” lists exactly the options TikTok gives the account (for the "
        f"private demo account: {FOLLOWERS}, {FRIENDS}, {ONLY_ME}), with none chosen; "
        f"“{COMMENT}”, “{DUET}” and “{STITCH}” are unchecked, and "
        f"“{DUET}” and “{STITCH}” are greyed out because the creator turned them off in TikTok; "
        f"“{DISCLOSE_LABEL}” is off.",
        "2b, 2c",
    ),
    Step(
        f"Point at “{DUET}”.",
        DUET,
        "hover",
        f"A tooltip says why it is greyed out: “{DUET_OFF}”",
        "2c",
        tooltip=DUET_OFF,
    ),
    Step(
        f"Under “{PRIVACY_FIELD_LABEL}”, choose “{FRIENDS}”.",
        FRIENDS,
        "radio",
        f"“{FRIENDS}” is chosen.",
        "2b",
        only_when="audited",
    ),
    Step(
        f"Under “{PRIVACY_FIELD_LABEL}”, choose “{FRIENDS}”.",
        FRIENDS,
        "radio",
        f"“{FRIENDS}” is chosen. The note above the form says: “{UNAUDITED_NOTE}” Posting "
        f"“{FRIENDS}” would be refused with that reason; the demo shows the settings with it "
        f"first and posts “{ONLY_ME}” at the end.",
        "2b",
        only_when="unaudited",
    ),
    Step(
        f"Tick “{COMMENT}”.",
        COMMENT,
        "checkbox",
        f"“{COMMENT}” is ticked.",
        "2c",
    ),
    Step(
        f"Turn on “{DISCLOSE_LABEL}”.",
        DISCLOSE_LABEL,
        "switch",
        f"“{YOUR_BRAND}” and “{BRANDED_CONTENT}” appear, both unchecked; the publish buttons "
        "are disabled.",
        "3a",
    ),
    Step(
        "Point at “Post now”.",
        "Post now",
        "hover",
        f"A tooltip says: “{NEED_DISCLOSURE_CHOICE}”",
        "3a",
        tooltip=NEED_DISCLOSURE_CHOICE,
    ),
    Step(
        f"Tick “{BRANDED_CONTENT}”.",
        BRANDED_CONTENT,
        "checkbox",
        f"“{LABEL_PAID}” is shown; “{ONLY_ME}” is greyed out; the declaration reads "
        f"“{DECLARATION_BRANDED}”",
        "3b, 4",
    ),
    Step(
        f"Point at “{ONLY_ME}”.",
        ONLY_ME,
        "hover",
        f"A tooltip says: “{BRANDED_NOT_PRIVATE}”",
        "3b",
        tooltip=BRANDED_NOT_PRIVATE,
    ),
    Step(
        f"Untick “{BRANDED_CONTENT}”.",
        BRANDED_CONTENT,
        "uncheck",
        f"“{ONLY_ME}” can be chosen again.",
        "3b",
    ),
    Step(
        f"Choose “{ONLY_ME}”.",
        ONLY_ME,
        "radio",
        f"“{BRANDED_CONTENT}” is greyed out.",
        "3b",
    ),
    Step(
        f"Point at “{BRANDED_CONTENT}”.",
        BRANDED_CONTENT,
        "hover",
        f"A tooltip says why: “{BRANDED_DISABLED_BY_PRIVATE}”",
        "3b",
        tooltip=BRANDED_DISABLED_BY_PRIVATE,
    ),
    Step(
        f"Tick “{YOUR_BRAND}”.",
        YOUR_BRAND,
        "checkbox",
        f"“{LABEL_PROMOTIONAL}” is shown; the declaration reads “{DECLARATION_DEFAULT}”",
        "3a, 4",
    ),
    Step(
        f"Choose “{FRIENDS}” again.",
        FRIENDS,
        "radio",
        f"“{BRANDED_CONTENT}” can be ticked again.",
        "3b",
        only_when="audited",
    ),
    Step(
        f"Tick “{BRANDED_CONTENT}” too.",
        BRANDED_CONTENT,
        "checkbox",
        f"Both are ticked: “{LABEL_PAID}” is shown and the declaration reads "
        f"“{DECLARATION_BRANDED}”",
        "3b, 4",
        only_when="audited",
    ),
    Step(
        "Choose the video under “Video to post”.",
        "Video to post",
        "field",
        "A player previews exactly the video that will be posted, beside the form.",
        "5a",
    ),
    Step(
        "Click “Post now”.",
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
        "The creator's TikTok profile opens: a post seen only by its owner (“Only me”) is "
        "visible there when signed in as the creator, as the post page says.",
        "5e",
        only_when="unaudited",
    ),
    Step(
        "Click “Open on TikTok”.",
        "Open on TikTok",
        "button",
        "The post opens on TikTok; a post that isn't public opens the creator's profile, "
        "as the post page says.",
        "5e",
        only_when="audited",
    ),
]


def steps(audited: bool) -> list[Step]:
    """Return the guide's steps for an app TikTok has (or hasn't yet) audited."""
    variant = "audited" if audited else "unaudited"
    return [s for s in ALL_STEPS if s.only_when in ("", variant)]


# The unaudited guide: what a reviewer watches while the audit is pending.
STEPS: list[Step] = steps(audited=False)


def variant_note(audited: bool) -> str:
    """Say which variant of the guide this is, in one sentence."""
    if audited:
        return (
            "This guide is for an app TikTok has audited: the post can be shared beyond "
            f"“{ONLY_ME}”."
        )
    return (
        "This guide is for an app TikTok has not audited yet: it uses a private demo account "
        f"and posts “{ONLY_ME}”, the only visibility TikTok accepts until the audit passes."
    )


def markdown(audited: bool = False, *, demo_url: str = "", email: str = "") -> str:
    """Render the guide as numbered Markdown."""
    lines = ["# Demo guide", "", variant_note(audited), ""]
    if demo_url:
        lines += [f"Demo: {demo_url}" + (f" (sign in as {email})" if email else ""), ""]
    for number, step in enumerate(steps(audited), 1):
        point = f" *(guideline point {step.point})*" if step.point else ""
        lines.append(f"{number}. {step.action}{point}")
        lines.append(f"   - You should see: {step.expect}")
    return "\n".join(lines) + "\n"
