"""Decide the composer: what to show for one TikTok account, whether posting is allowed, and the
exact `post_info` to send. Pure: no Flask, no I/O. The composer page, the final server-side check,
the publish job and the audit kit's mockups all call `decide()`; templates only draw its answer.

Every quoted string below is TikTok's required wording (spec/direct-post-ux.md); keep it verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from webapp.publishing import codes

# --- TikTok's wording (verbatim) ---------------------------------------------------------------
PRIVACY_LABELS = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
}
PRIVACY_FIELD_LABEL = "Who can view this video"
DISCLOSE_LABEL = "Disclose post content"
DISCLOSE_HINT = (
    "Turn on to disclose that this post promotes yourself, a brand, a product or a service."
)
YOUR_BRAND = "Your brand"
BRANDED_CONTENT = "Branded content"
LABEL_PROMOTIONAL = "Your photo/video will be labeled as 'Promotional content'"
LABEL_PAID = "Your photo/video will be labeled as 'Paid partnership'"
NEED_DISCLOSURE_CHOICE = (
    "You need to indicate if your content promotes yourself, a third party, or both."
)
BRANDED_NOT_PRIVATE = "Branded content visibility cannot be set to private."
MUSIC_URL = "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
BRANDED_POLICY_URL = "https://www.tiktok.com/legal/page/global/bc-policy/en"
DECLARATION_DEFAULT = "By posting, you agree to TikTok's Music Usage Confirmation."
DECLARATION_BRANDED = (
    "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
)
PROCESSING_NOTICE = (
    "It can take a few minutes for your post to be processed and to appear on your profile."
)

# --- Our own wording ---------------------------------------------------------------------------
INTERACTIONS = {  # name -> (label, creator_info flag, reason when the creator turned it off)
    "comment": (
        "Allow Comment",
        "comment_disabled",
        "Comments are turned off for this account in TikTok.",
    ),
    "duet": ("Allow Duet", "duet_disabled", "Duets are turned off for this account in TikTok."),
    "stitch": (
        "Allow Stitch",
        "stitch_disabled",
        "Stitches are turned off for this account in TikTok.",
    ),
}
BRANDED_DISABLED_BY_PRIVATE = (
    "Branded content can't be private: choose a visibility other than “Only me” first."
)
DRAFT_NOTE = (
    "Upload as draft: the video goes to this account's TikTok inbox. The creator gets a "
    "notification and finishes the post (caption, visibility, settings) in the TikTok app."
)
UNAUDITED_NOTE = "Until TikTok audits this app, it accepts only “Only me” posts."  # product.md
UNAUDITED_REFUSED = f"{UNAUDITED_NOTE} Choose “Only me” to post."
AIGC_LABEL = "AI-generated content"
MAX_CAPTION = 2200
MAX_PHOTO_TITLE = 90
MAX_PHOTO_DESCRIPTION = 4000
MAX_PHOTOS = 35


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, as TikTok counts captions."""
    return len(text.encode("utf-16-le")) // 2


def caption_limit(post_type: str) -> int:
    """Return TikTok's limit (UTF-16 units) on a post's caption: a photo post's title is shorter."""
    return MAX_PHOTO_TITLE if post_type == "photo" else MAX_CAPTION


@dataclass(frozen=True)
class Creator:
    """What creator_info said about an account, fetched fresh for this decision."""

    nickname: str
    username: str = ""
    avatar_url: str = ""
    privacy_options: tuple[str, ...] = ()
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_duration_sec: int = 0
    cant_post: str = ""  # TikTok's error code when the creator can't post now, else ""

    @classmethod
    def from_api(cls, data: dict, error_code: str = "") -> Creator:
        """Build from creator_info's `data` (and its error code when it wasn't "ok")."""
        return cls(
            nickname=str(data.get("creator_nickname", "")),
            username=str(data.get("creator_username", "")),
            avatar_url=str(data.get("creator_avatar_url", "")),
            privacy_options=tuple(data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
            cant_post=error_code if error_code and error_code != "ok" else "",
        )

    def known_as(self, *, nickname: str, username: str, avatar_url: str) -> Creator:
        """Return this creator with the stored account's identity wherever creator_info gave
        none (a creator who can't post may come back with no data at all)."""
        return replace(
            self,
            nickname=self.nickname or nickname,
            username=self.username or username,
            avatar_url=self.avatar_url or avatar_url,
        )


@dataclass(frozen=True)
class MediaFacts:
    """What probing found in the chosen media (one video, or the photos of a carousel)."""

    kind: str  # "video" | "photo"
    duration_ms: int | None = None
    count: int = 1
    problems: tuple[str, ...] = ()  # TikTok rules the files break, in words


@dataclass(frozen=True)
class Choices:
    """What the user chose for one account (missing means untouched)."""

    privacy: str | None = None
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    disclose: bool = False
    your_brand: bool = False
    branded_content: bool = False
    is_aigc: bool = False
    caption: str = ""  # the video caption, or the photo title
    description: str = ""  # photo posts only
    cover_timestamp_ms: int | None = None
    photo_cover_index: int = 0
    auto_add_music: bool = False


@dataclass(frozen=True)
class Option:
    """One entry of the privacy dropdown."""

    value: str
    label: str
    selected: bool
    disabled: bool
    reason: str = ""


@dataclass(frozen=True)
class Toggle:
    """A checkbox or switch: its state and, when disabled, why."""

    name: str
    label: str
    checked: bool
    disabled: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Link:
    """A piece of declaration text that links somewhere."""

    text: str
    url: str


@dataclass
class Decision:
    """Everything the composer shows for one account, and whether (and what) it may post."""

    post_type: str
    share_type: str
    creator: Creator | None
    blocked: str = ""  # the account can't post at all right now (shown instead of the form)
    notes: list[str] = field(default_factory=list)
    privacy: list[Option] = field(default_factory=list)
    interactions: list[Toggle] = field(default_factory=list)
    aigc: Toggle | None = None
    disclosure: Toggle | None = None
    your_brand: Toggle | None = None
    branded_content: Toggle | None = None
    label: str = ""  # the content label the post will carry, when disclosed
    declaration: str = ""
    declaration_links: list[Link] = field(default_factory=list)
    caption_used: int = 0
    caption_limit: int = MAX_CAPTION
    description_used: int = 0
    description_limit: int = MAX_PHOTO_DESCRIPTION
    errors: list[str] = field(default_factory=list)
    post_info: dict | None = None

    @property
    def allowed(self) -> bool:
        """Tell whether this account's post may be sent."""
        return self.post_info is not None

    @property
    def hover(self) -> str:
        """Return the reason shown when hovering the disabled publish buttons ('' when enabled)."""
        return hover_text(self.errors)

    @property
    def shows_form(self) -> bool:
        """Tell whether the Direct Post settings apply (not for drafts, not when blocked)."""
        return self.share_type == "direct_post" and not self.blocked


def hover_text(errors: list[str]) -> str:
    """Return the publish buttons' hover text for these problems ('' when there are none).

    TikTok's disclosure sentence wins whenever it applies (point 3a: disclosure on, nothing
    ticked), whatever else is missing; otherwise the first problem. The rest stay listed below.
    """
    if NEED_DISCLOSURE_CHOICE in errors:
        return NEED_DISCLOSURE_CHOICE
    return errors[0] if errors else ""


def _declaration(branded: bool) -> tuple[str, list[Link]]:
    links = [Link("Music Usage Confirmation", MUSIC_URL)]
    if branded:
        return DECLARATION_BRANDED, [Link("Branded Content Policy", BRANDED_POLICY_URL), *links]
    return DECLARATION_DEFAULT, links


def _duration_problem(creator: Creator, media: MediaFacts) -> str:
    if media.kind != "video" or media.duration_ms is None or creator.max_duration_sec <= 0:
        return ""
    limit_ms = creator.max_duration_sec * 1000
    if media.duration_ms <= limit_ms:
        return ""
    over = -(-(media.duration_ms - limit_ms) // 1000)
    return (
        f"This video is {over} s longer than this account's limit of "
        f"{creator.max_duration_sec} s. Trim it or choose another video."
    )


def decide(
    *,
    creator: Creator | None,
    media: MediaFacts | None,
    post_type: str,
    share_type: str,
    audited: bool,
    choices: Choices,
) -> Decision:
    """Decide the composer for one account; see the module docstring."""
    decision = Decision(post_type=post_type, share_type=share_type, creator=creator)
    photo = post_type == "photo"
    if creator is None:
        decision.blocked = (
            "TikTok could not be asked about this account right now. Please try again."
        )
        decision.errors.append(decision.blocked)
        return decision
    if creator.cant_post:
        decision.blocked = codes.cant_post(creator.cant_post)
        decision.errors.append(decision.blocked)
        return decision

    # Caption / title and description, counted in UTF-16 units as TikTok does.
    decision.caption_limit = caption_limit(post_type)
    decision.caption_used = utf16_len(choices.caption)
    decision.description_used = utf16_len(choices.description) if photo else 0
    errors = decision.errors

    # Media.
    if media is None:
        errors.append("Choose the photos to post." if photo else "Choose a video to post.")
    else:
        if media.kind != post_type:
            errors.append("Photo posts need photos." if photo else "Video posts need a video.")
        if photo and not 1 <= media.count <= MAX_PHOTOS:
            errors.append(f"A photo post has 1 to {MAX_PHOTOS} photos.")
        errors.extend(media.problems)
        duration = _duration_problem(creator, media)
        if duration:
            errors.append(duration)

    if share_type != "direct_post":
        decision.notes.append(DRAFT_NOTE)
        if photo:
            _check_lengths(decision, photo)
        if not errors:
            decision.post_info = _draft_post_info(choices) if photo else {}
        return decision

    # Point 2b: privacy, exactly the creator's options, no default; Only me vs Branded content.
    # Unaudited, the list stays whole (so every interaction can be shown to reviewers) and
    # anything but "Only me" is refused below with the reason, before anything is sent.
    offered = list(creator.privacy_options)
    if not audited:
        decision.notes.append(UNAUDITED_NOTE)
    disclose = choices.disclose
    branded = disclose and choices.branded_content
    your_brand = disclose and choices.your_brand
    for value in offered:
        blocked_private = value == "SELF_ONLY" and branded
        decision.privacy.append(
            Option(
                value=value,
                label=PRIVACY_LABELS.get(value, value.replace("_", " ").capitalize()),
                selected=value == choices.privacy,
                disabled=blocked_private,
                reason=BRANDED_NOT_PRIVATE if blocked_private else "",
            )
        )
    if choices.privacy is None or choices.privacy == "":
        errors.append("Choose who can view this video.")
    elif choices.privacy not in offered:
        errors.append("That visibility isn't available for this account. Choose another one.")
    elif not audited and choices.privacy != "SELF_ONLY":
        errors.append(UNAUDITED_REFUSED)

    # Point 2c: interactions, unchecked by default, disabled where the creator turned them off.
    allowed_by_user = {
        "comment": choices.allow_comment,
        "duet": choices.allow_duet,
        "stitch": choices.allow_stitch,
    }
    for name in ("comment",) if photo else ("comment", "duet", "stitch"):
        label, flag, reason = INTERACTIONS[name]
        off = bool(getattr(creator, flag))
        decision.interactions.append(
            Toggle(
                name=f"allow_{name}",
                label=label,
                checked=allowed_by_user[name] and not off,
                disabled=off,
                reason=reason if off else "",
            )
        )
        if off and allowed_by_user[name]:
            errors.append(reason)

    if not photo:
        decision.aigc = Toggle(name="is_aigc", label=AIGC_LABEL, checked=choices.is_aigc)

    # Point 3: commercial content disclosure.
    private = choices.privacy == "SELF_ONLY"
    decision.disclosure = Toggle(name="disclose", label=DISCLOSE_LABEL, checked=disclose)
    if disclose:
        decision.your_brand = Toggle(name="your_brand", label=YOUR_BRAND, checked=your_brand)
        decision.branded_content = Toggle(
            name="branded_content",
            label=BRANDED_CONTENT,
            checked=branded,
            disabled=private and not branded,
            reason=BRANDED_DISABLED_BY_PRIVATE if private and not branded else "",
        )
        if branded:
            decision.label = LABEL_PAID
        elif your_brand:
            decision.label = LABEL_PROMOTIONAL
        else:
            errors.append(NEED_DISCLOSURE_CHOICE)
        if branded and private:
            errors.append(BRANDED_NOT_PRIVATE)

    # Point 4: the declaration above the publish buttons.
    decision.declaration, decision.declaration_links = _declaration(branded)
    _check_lengths(decision, photo)
    if choices.cover_timestamp_ms is not None and choices.cover_timestamp_ms < 0:
        errors.append("Choose a cover frame inside the video.")
    if photo and media is not None and not 0 <= choices.photo_cover_index < max(media.count, 1):
        errors.append("Choose one of the post's photos as the cover.")
    if not errors:
        decision.post_info = _direct_post_info(decision, choices, photo)
    return decision


def _check_lengths(decision: Decision, photo: bool) -> None:
    if decision.caption_used > decision.caption_limit:
        what = "title" if photo else "caption"
        over = decision.caption_used - decision.caption_limit
        decision.errors.append(
            f"The {what} is {_chars(over)} too long ({decision.caption_limit} at most)."
        )
    if photo and decision.description_used > decision.description_limit:
        over = decision.description_used - decision.description_limit
        decision.errors.append(
            f"The description is {_chars(over)} too long ({decision.description_limit} at most)."
        )


def _chars(count: int) -> str:
    return f"{count} character{'s' if count != 1 else ''}"


def _draft_post_info(choices: Choices) -> dict:
    return {"title": choices.caption, "description": choices.description}


def _direct_post_info(decision: Decision, choices: Choices, photo: bool) -> dict:
    """Build post_info from what the decision allowed (never from the raw request)."""
    allow = {t.name: t.checked and not t.disabled for t in decision.interactions}
    branded = bool(decision.branded_content and decision.branded_content.checked)
    your_brand = bool(decision.your_brand and decision.your_brand.checked)
    info = {
        "privacy_level": choices.privacy,
        "title": choices.caption,
        "disable_comment": not allow.get("allow_comment", False),
        "brand_content_toggle": branded,
        "brand_organic_toggle": your_brand,
    }
    if photo:
        info["description"] = choices.description
        info["auto_add_music"] = bool(choices.auto_add_music)
    else:
        info["disable_duet"] = not allow.get("allow_duet", False)
        info["disable_stitch"] = not allow.get("allow_stitch", False)
        info["is_aigc"] = bool(choices.is_aigc)
        if choices.cover_timestamp_ms is not None:
            info["video_cover_timestamp_ms"] = int(choices.cover_timestamp_ms)
    return info
