"""What the UX mockups show: the guideline points in our spec's words, and the states TikTok's
reviewers check, each with what to notice and TikTok's verbatim wording (one page each)."""

from __future__ import annotations

from dataclasses import dataclass, field

from webapp.publishing import codes
from webapp.tiktok.rules import (
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
    UNAUDITED_NOTE,
    YOUR_BRAND,
)

# The guideline points as our spec (shared/spec/direct-post-ux.md) words them.
POINTS = {
    "1a": "Query creator_info when the composer is rendered for an account, and show that "
    "account's creator_nickname (and avatar) so the user sees where the post goes.",
    "1b": "If creator_info answers that the creator can't post now (spam_risk_too_many_posts, "
    "spam_risk_user_banned_from_posting, reached_active_user_cap), publishing is blocked and "
    "the user is told to try again later.",
    "1c": "A video longer than max_video_post_duration_sec is refused before upload, with the "
    "limit shown.",
    "2b": "Privacy: a dropdown whose options are exactly privacy_level_options, shown with human "
    "labels (Everyone / Friends / Followers / Only me), with NO default selection: the user must "
    "pick one. Nothing can be posted until they do.",
    "2c": "Interaction settings “Allow Comment”, “Allow Duet”, “Allow Stitch”: all unchecked by "
    "default; each one the creator disabled (comment_disabled, duet_disabled, stitch_disabled) "
    "is disabled and greyed out. Photo posts show only “Allow Comment”.",
    "3a": "A toggle for the content disclosure setting, OFF by default. Turning it on reveals two "
    "checkboxes, both unchecked: “Your brand” and “Branded content”. Your brand only: “Your "
    "photo/video will be labeled as 'Promotional content'”. Branded content, alone or with Your "
    "brand: “Your photo/video will be labeled as 'Paid partnership'”. Toggle on and nothing "
    "ticked: the publish button is disabled, and hovering it shows “You need to indicate if your "
    "content promotes yourself, a third party, or both.”",
    "3b": "Branded content can't be private. If “Only me” is selected, “Branded content” is "
    "disabled with an explanation; if “Branded content” is ticked first, the “Only me” option "
    "is disabled with the hover text “Branded content visibility cannot be set to private.”",
    "4": "Declaration above the publish button. Default, and with Your brand only: “By posting, "
    "you agree to TikTok's Music Usage Confirmation.” With Branded content (alone or both): “By "
    "posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation.”",
    "5a": "A preview of the exact media that will be posted (video player / image carousel) "
    "beside the form.",
    "5c": "Nothing is sent to TikTok until the user clicks the publish button (Post now / "
    "Schedule) after seeing the declaration.",
    "5d": "After publishing, tell the user it can take a few minutes for the post to be "
    "processed and to appear on their profile.",
    "5e": "Show the post's status as TikTok reports it: uploading with progress, processing, "
    "published (with a link to the post when TikTok gives a public id), failed (with the reason "
    "in plain words and what to do).",
}
POINT_TITLES = {
    "1": "Fresh creator info on the post page",
    "2": "Metadata the user enters",
    "3": "Commercial content disclosure",
    "4": "Declaration above the publish button",
    "5": "The user stays aware and in control",
}
AUDITED_WHY = (
    "Drawn with the app marked as audited: until the audit TikTok accepts only “Only me” posts, "
    "so the unaudited app shows this same page but refuses to post a public (or branded) choice, "
    "giving that reason on the button. Everything else on the page is identical."
)
UNAUDITED_WHY = (
    "Drawn as the reviewer will see it: the app is not audited yet, so the note above the "
    "settings says TikTok accepts only “Only me” posts; every option and interaction still works."
)
POSTED_WHY = (
    "Posted with the app marked as audited, to “Everyone”, so TikTok gives the post a public id. "
    "The unaudited demo posts “Only me” and shows these same pages; its “Open on TikTok” opens "
    "the creator's profile, where a private post is visible to its owner."
)
CANT_POST_TEXT = codes.cant_post("spam_risk_too_many_posts")


@dataclass(frozen=True)
class State:
    """One mockup page: what it proves and the TikTok wording it carries."""

    key: str
    title: str
    points: tuple[str, ...]
    notice: str  # what the reviewer should notice
    strings: tuple[str, ...]  # verbatim wording shown on the page (also printed as text)
    audited: bool = False  # drawn with the app marked audited (see AUDITED_WHY)
    why: str = ""  # how the page was drawn, when neither AUDITED_WHY nor UNAUDITED_WHY says it


STATES: list[State] = [
    State(
        "connected",
        "A connected TikTok account",
        ("1a",),
        "The account was connected through TikTok's own authorization page (the sandbox here). "
        "Its card shows the avatar, nickname and @username TikTok returned, and its status.",
        ("Connected",),
        why="Four sandbox creators are connected: a public one, a private one with duets and "
        "stitches off, one limited to 60 s videos and one that can't post now.",
    ),
    State(
        "untouched",
        "The composer, untouched",
        ("1a", "2b", "2c", "3a", "4"),
        "The panel names the account with its TikTok nickname and avatar, read from creator_info "
        "just now. No visibility is chosen, every interaction is unchecked, disclosure is off, "
        "and the publish buttons are disabled with the reasons listed.",
        (
            PRIVACY_FIELD_LABEL,
            "Allow Comment",
            "Allow Duet",
            "Allow Stitch",
            DISCLOSE_LABEL,
            DECLARATION_DEFAULT,
            UNAUDITED_NOTE,
        ),
    ),
    State(
        "privacy",
        "The visibility list: exactly the creator's options",
        ("2b",),
        "This private account's privacy_level_options are Followers, Friends and Only me, so "
        "the list shows exactly those (no “Everyone”), with nothing chosen.",
        (PRIVACY_FIELD_LABEL, "Followers", "Friends", "Only me", UNAUDITED_NOTE),
    ),
    State(
        "greyed",
        "Interactions the creator turned off",
        ("2c",),
        "kenji.private turned duets and stitches off in TikTok (duet_disabled, stitch_disabled): "
        "“Allow Duet” and “Allow Stitch” are disabled and greyed, with the reason beside them.",
        ("Allow Comment", "Allow Duet", "Allow Stitch"),
    ),
    State(
        "photo",
        "A photo post: only “Allow Comment”",
        ("2c",),
        "For a photo post TikTok takes no duet or stitch setting, so only “Allow Comment” is "
        "offered, unchecked. The photos to be posted are previewed beside the form.",
        ("Allow Comment",),
    ),
    State(
        "cant_post",
        "The creator can't post now",
        ("1b",),
        "creator_info answered spam_risk_too_many_posts for omar.paused: the panel says so and "
        "asks to try again later, and nothing can be posted to that account.",
        (CANT_POST_TEXT,),
    ),
    State(
        "too_long",
        "A video over the creator's limit",
        ("1c",),
        "lena.quiet accepts videos up to 60 s (max_video_post_duration_sec); the chosen video "
        "lasts 62 s, so it is refused before any upload, with the limit shown.",
        ("limit of 60 s",),
    ),
    State(
        "disclose_nothing",
        "Disclosure on, nothing ticked",
        ("3a",),
        "Turning the disclosure on reveals “Your brand” and “Branded content”, both unchecked. "
        "The publish buttons are disabled; hovering “Post now” shows TikTok's sentence in a "
        "tooltip drawn in the page (also on keyboard focus).",
        (DISCLOSE_LABEL, YOUR_BRAND, BRANDED_CONTENT, NEED_DISCLOSURE_CHOICE),
    ),
    State(
        "your_brand",
        "Your brand",
        ("3a", "4"),
        "With only “Your brand” ticked, the post is labeled “Promotional content” and the "
        "declaration above “Post now” is the default one.",
        (YOUR_BRAND, LABEL_PROMOTIONAL, DECLARATION_DEFAULT),
    ),
    State(
        "branded_first",
        "Branded content ticked: “Only me” disabled",
        ("3b", "3a", "4"),
        "“Branded content” was ticked first: “Only me” is disabled in the visibility list and "
        "hovering it shows TikTok's sentence. The label becomes “Paid partnership” and the "
        "declaration names the Branded Content Policy.",
        (BRANDED_CONTENT, BRANDED_NOT_PRIVATE, LABEL_PAID, DECLARATION_BRANDED),
        audited=True,
    ),
    State(
        "only_me_first",
        "“Only me” chosen first: Branded content disabled",
        ("3b",),
        "“Only me” was chosen first: “Branded content” is disabled and greyed, and hovering it "
        "says why. “Your brand” stays available.",
        ("Only me", BRANDED_CONTENT, YOUR_BRAND),
    ),
    State(
        "both",
        "Both ticked",
        ("3a", "4"),
        "“Your brand” and “Branded content” together: the label is “Paid partnership” and the "
        "declaration is the branded one, with both policies linked. Posting is allowed.",
        (YOUR_BRAND, BRANDED_CONTENT, LABEL_PAID, DECLARATION_BRANDED),
        audited=True,
    ),
    State(
        "preview",
        "Preview and consent",
        ("5a", "5c", "4"),
        "A player shows exactly the video that will be posted, beside the form. The declaration "
        "sits right above “Post now”; nothing is sent to TikTok before that click.",
        (DECLARATION_DEFAULT, "Post now"),
        audited=True,
        why=POSTED_WHY,
    ),
    State(
        "processing_notice",
        "After “Post now”: the processing notice",
        ("5d",),
        "Right after the click, the post's page says that TikTok may take a few minutes to "
        "process the post and show it on the profile.",
        (PROCESSING_NOTICE,),
        audited=True,
        why=POSTED_WHY,
    ),
    State(
        "live",
        "Live status: processing on TikTok",
        ("5e",),
        "The status updates by itself (no reload) as TikTok reports it: uploading with its "
        "progress, then processing, here with the notice repeated.",
        ("Processing on TikTok", PROCESSING_NOTICE),
        audited=True,
        why=POSTED_WHY,
    ),
    State(
        "published",
        "Published, with “Open on TikTok”",
        ("5e",),
        "TikTok reported the post published and gave its public id: “Open on TikTok” opens the "
        "post itself. (A private “Only me” post, as the unaudited demo sends, opens the "
        "creator's profile instead.)",
        ("Published", "Open on TikTok"),
        audited=True,
        why=POSTED_WHY,
    ),
]


@dataclass
class Callout:
    """A numbered box over the picture, in the picture's pixels."""

    number: int
    label: str
    box: tuple[float, float, float, float]  # x, y, width, height


@dataclass
class Shot:
    """The picture taken for one state, with its callouts."""

    state: State
    jpeg: bytes
    size: tuple[int, int]
    callouts: list[Callout] = field(default_factory=list)


CREATORS = ("maya.rivers", "kenji.private", "lena.quiet", "omar.paused")  # the sandbox's


class MockupError(Exception):
    """The mockups could not be made; the message is one line for the operator."""
