"""The application answers for TikTok's Direct Post audit form, written from the applicant's
inputs and from what Cadence really stores (read off the models, so the list can't go stale)."""

from __future__ import annotations

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
        f"Yes. The demo instance is public at {kit.demo_url}. Sign in with {kit.demo_email} "
        "and the password given below, then follow the attached demo guide step by step."
        if kit.instance_public
        else "No. Cadence is self-hosted by the organization for its own team; reviewers get a "
        f"demo instance at {kit.demo_url or '(demo URL)'} with the credentials below and the "
        "attached step-by-step guide, plus a screen recording."
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

{kit.org_description or "(describe the organization and why it posts to TikTok)"}

## 2. API client information

### Goal of the app

{org} runs Cadence, a self-hosted publishing tool, so its team can prepare TikTok posts for the
TikTok accounts it manages and publish them now or at a chosen minute. For every post, the
person posting sees the account's TikTok nickname, chooses who can view the video (no
default), chooses comment, duet and stitch settings (all off by default, and unavailable
where the creator turned them off), discloses commercial content when it applies, sees a
preview of the exact video or photos, and agrees to TikTok's Music Usage Confirmation (and
Branded Content Policy when relevant) before anything is sent. Cadence adds no watermark,
logo or text to the media or caption, and shows each post's status as TikTok reports it.

### Scopes

- `user.info.basic`, `user.info.profile`: show which account a post goes to (nickname, avatar,
  @username).
- `video.publish`: Direct Post of videos and photos the user composed and confirmed.
- `video.upload`: send a video to the creator's TikTok inbox as a draft when the operator
  chooses "Upload as draft".

### Estimated daily usage

{usage_arithmetic(kit.customers, kit.accounts_per_customer, kit.videos_per_account_per_day)}.
Posts go out at the times users choose, with at most TikTok's per-token limits
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
