"""The application answers for TikTok's Direct Post audit form, written from the applicant's
inputs and from what Cadence really stores (read off the models, so the list can't go stale),
and the one check of answer wording that TikTok's Content Sharing Guidelines call not acceptable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.models import MODELS


@dataclass(frozen=True)
class StoredField:
    """A TikTok API response field that Cadence keeps, and where."""

    api_field: str  # e.g. "status/fetch publicaly_available_post_id"
    table: str
    column: str


def stored_fields() -> list[StoredField]:
    """Return every model column marked as holding a TikTok API response field."""
    found = []
    for model in MODELS:
        for field in model._meta.sorted_fields:
            text = field.help_text or ""
            if text.startswith("TikTok: "):
                found.append(
                    StoredField(text.removeprefix("TikTok: "), model._meta.table_name, field.name)
                )
    return found


def usage_arithmetic(customers: int, accounts: int, videos: int) -> str:
    """Spell out the daily estimate, e.g. '4 customers × 3 accounts × 10 videos = 120 a day'."""
    total = customers * accounts * videos
    return (
        f"{customers} customer{'s' if customers != 1 else ''} × {accounts} TikTok "
        f"account{'s' if accounts != 1 else ''} per customer × {videos} "
        f"video{'s' if videos != 1 else ''} per account per day = {total:,} "
        f"video{'s' if total != 1 else ''} a day"
    )


def build(kit, settings, service, *, redirect_uri: str) -> str:
    """Return the answers as Markdown (sections of TikTok's form)."""
    org = kit.org_name or "(organization name)"
    fields = "\n".join(f"- `{f.api_field}` → {f.table}.{f.column}" for f in stored_fields())
    public = (
        f"Yes. {org} offers Cadence to its customers online; the demo instance is at "
        f"{kit.demo_url}. Sign in with {kit.demo_email} and the password given below, then "
        "follow the attached demo guide step by step."
        if kit.instance_public
        else f"No. {org} gives each of its customers their own sign-in, and "
        "there is no public sign-up page. For the review, TikTok gets a demo instance at "
        f"{kit.demo_url or '(demo URL)'} with the credentials below and the attached "
        "step-by-step guide, plus a screen recording."
    )
    return f"""# TikTok Direct Post application — {org}

## 1. General information

- Applicant: {kit.full_name or "(full name)"}
- Organization: {org} — {kit.org_website or "(website)"}
- TikTok app ID: {kit.app_id or "(app ID)"}
- Website of the app: {settings.website_url or "(public website)"}
- Privacy policy: {settings.privacy_url or "(privacy policy URL)"}
- Terms of service: {settings.terms_url or "(terms of service URL)"}

### What the organization does, as it relates to TikTok

{kit.org_description or "(describe the organization, its customers, and how they use TikTok)"}

## 2. API client information

### Goal of the app

{org} provides Cadence, social media management software, as a service to its customers:
brands, creators, and the businesses that agencies work for. Each customer connects their
TikTok accounts through TikTok's own authorization page and then uses Cadence to create,
schedule, publish and manage their TikTok content in one place: write the caption, add the
video or photos, plan the post on a calendar, publish it right away or at the minute they
choose, and follow its status until TikTok reports it live.

For every post, the customer sees the account's TikTok nickname, chooses who can view the
video (no default), chooses comment, duet and stitch settings (all off by default, and
unavailable where the creator turned them off), discloses commercial content when it applies,
sees a preview of the exact video or photos, and agrees to TikTok's Music Usage Confirmation
(and Branded Content Policy when relevant) before anything is sent. Cadence adds no watermark,
logo or text to the media or caption, and shows each post's status as TikTok reports it.

### Scopes

- `user.info.basic`, `user.info.profile`: show the customer which account a post goes to
  (nickname, avatar, @username).
- `video.publish`: Direct Post of videos and photos the customer composed and confirmed.
- `video.upload`: send a video to the creator's TikTok inbox as a draft when the service is set
  to "Upload as draft".

### Estimated daily usage

{usage_arithmetic(kit.customers, kit.accounts_per_customer, kit.videos_per_account_per_day)}.
Posts go out at the times customers choose, with at most TikTok's per-token limits
(creator_info 20/min, init 6/min, status 30/min) enforced by Cadence itself.

### OAuth redirect URI

{redirect_uri}

## 3. Supporting documents

### TikTok API response fields Cadence stores

{fields}

Tokens are encrypted at rest and never logged. Nothing else from TikTok's responses is kept.

### Public access for the review

{public}

- Demo URL: {kit.demo_url or "(demo URL)"}
- Demo email: {kit.demo_email or "(demo email)"}
- Demo password: {kit.demo_password() or "(demo password)"}

Attached: the demo guide (numbered steps), the UX mockups (PDF, one page per state the
guidelines describe) and the readiness checklist.
"""


# --- wording TikTok's Content Sharing Guidelines list as not acceptable ---------------------------

_ACCOUNTS = r"(?:tiktok\s+)?account(?:s|\(s\))?"
_WHO = r"(?:you|we|i|it|(?:(?:you|we|i)\s+(?:or|and|&)\s+)?(?:your|our|its|my|the)\s+team)"
_MANAGE = r"(?:manage[sd]?|run[s]?|own[s]?|control[s]?|operate[sd]?|handle[sd]?)"
_TEAM = r"(?:team|staff|employees|colleagues|co-?workers)"
_UPLOAD = r"(?:upload(?:s|ing)?)"

UNACCEPTABLE = (
    (
        re.compile(rf"\b{_ACCOUNTS}\s+(?:that\s+|which\s+)?{_WHO}\s+{_MANAGE}\b", re.I),
        "Describes posting to accounts the applicant or its team manages, which the guidelines "
        "list as not acceptable. Say that customers (brands, creators, agencies' clients) "
        "connect their own accounts.",
    ),
    (
        re.compile(
            rf"\b{_ACCOUNTS}\s+(?:that\s+are\s+)?(?:managed|run|owned|operated)\s+by\s+"
            rf"(?:us|me|(?:our|its|my|the|your)\s+(?:own\s+)?(?:{_TEAM}|company|organi[sz]ation))\b",
            re.I,
        ),
        "Describes posting to accounts the applicant manages, which the guidelines list as not "
        "acceptable. Say that customers connect their own accounts.",
    ),
    (
        re.compile(
            rf"\b(?:our|my|its)\s+own\s+(?:{_ACCOUNTS}|profiles?|channels?|brand'?s?\s+{_ACCOUNTS})\b",
            re.I,
        ),
        "Reads as an app for the applicant's own accounts, which the guidelines list as not "
        "acceptable.",
    ),
    (
        re.compile(rf"\b(?:its|our|my|your)\s+(?:own\s+|internal\s+)?{_TEAM}\b", re.I),
        "Reads as a tool for the applicant's own team (internal use), which the guidelines "
        "list as not acceptable. Describe the customers the service is offered to.",
    ),
    (
        re.compile(
            r"\b(?:internal(?:ly)?[\s-]+(?:use[sd]?|tool|app|application|purposes?|only)"
            r"|in[\s-]?house|(?:for\s+)?internal\s+use)\b",
            re.I,
        ),
        "Describes internal use, which the guidelines list as not acceptable.",
    ),
    (
        re.compile(
            r"\b(?:personal\s+(?:use|tool|project|purposes?|accounts?)|for\s+(?:my|our)\s+own\s+use)\b",
            re.I,
        ),
        "Describes personal use, which the guidelines list as not acceptable.",
    ),
    (
        re.compile(
            rf"\b(?:utility|(?:tool|app|script|bot)\s+(?:only\s+)?(?:to|for)\s+(?:help\s+(?:to\s+)?)?{_UPLOAD}"
            rf"|only\s+(?:to|for)\s+{_UPLOAD}|{_UPLOAD}\s+(?:tool|utility|script|bot))\b",
            re.I,
        ),
        "Describes a utility only for uploading, which the guidelines list as not "
        "acceptable. Describe the whole service: creating, scheduling, publishing and managing "
        "content for customers.",
    ),
)


@dataclass(frozen=True)
class WordingWarning:
    """A phrase in the answers that TikTok's guidelines call not acceptable, and why."""

    phrase: str
    reason: str


def wording_warnings(text: str) -> list[WordingWarning]:
    """Return the phrases of text that read as an internal tool or an upload utility."""
    hits: list[tuple[int, int, str]] = []
    for pattern, reason in UNACCEPTABLE:
        for match in pattern.finditer(text or ""):
            start, end = match.span()
            # One warning per place: "your team" inside "accounts you or your team manage".
            if not any(s <= start and end <= e for s, e, _ in hits):
                hits = [h for h in hits if not (start <= h[0] and h[1] <= end)]
                hits.append((start, end, reason))
    found: list[WordingWarning] = []
    seen: set[str] = set()
    for start, end, reason in sorted(hits):
        phrase = " ".join(text[start:end].split())
        if phrase.lower() not in seen:
            seen.add(phrase.lower())
            found.append(WordingWarning(phrase, reason))
    return found
