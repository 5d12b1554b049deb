"""TikTok's codes in plain words, and whether Retry can succeed: the one table.

Every code a TikTok answer can end a post (or block an account) with lives here: the creator
who can't post now (creator_info), the refusals of the init calls, status/fetch's fail_reason
(tiktok-api.md 3.6), the status errors no later check can cure, and the upload's. The composer,
the account check, the jobs and the post page all look their wording up here. Imports nothing
of Cadence's, so the TikTok layer (webapp.tiktok) can read it too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """What a code means for people, and whether asking again (Retry) can succeed."""

    words: str
    retry: bool = False


_RECONNECT_TO_POST = Code(
    "The account didn't grant Cadence permission to post. Reconnect it and allow posting."
)
_INVALID = Code("TikTok refused the post's settings as invalid.")

CODES: dict[str, Code] = {
    # The creator can't post now: creator_info answers these (HTTP 200), inits refuse with them.
    "spam_risk_too_many_posts": Code(
        "TikTok says this account has posted too much today. Please try again later."
    ),
    "spam_risk_user_banned_from_posting": Code(
        "TikTok has blocked this account from posting for now. Please try again later."
    ),
    "reached_active_user_cap": Code(
        "This app has reached TikTok's daily limit of posting accounts. Please try again later.",
        retry=True,
    ),
    # Refusals of the init calls.
    "spam_risk_too_many_pending_share": Code(
        "This account has 5 drafts waiting in its TikTok inbox. Finish or delete them in the "
        "TikTok app, then retry.",
        retry=True,
    ),
    "unaudited_client_can_only_post_to_private_accounts": Code(
        "Until the app passes TikTok's audit, the TikTok account must be private. Make it "
        "private in the TikTok app, then retry.",
        retry=True,
    ),
    "url_ownership_unverified": Code(
        "TikTok refused the media URL: the verified media URL prefix in Admin Console → "
        "Services doesn't match what was verified with TikTok.",
        retry=True,
    ),
    "privacy_level_option_mismatch": Code(
        "The chosen visibility is no longer offered for this account. Edit the post."
    ),
    "invalid_params": _INVALID,
    "invalid_param": _INVALID,
    "scope_not_authorized": _RECONNECT_TO_POST,
    "scope_permission_missed": _RECONNECT_TO_POST,
    "app_version_check_failed": Code(
        "TikTok asks the creator to update the TikTok app before receiving photo posts.",
        retry=True,
    ),
    # The upload.
    "upload_url_expired": Code(
        "The upload link expired before the whole video was sent; nothing was posted.",
        retry=True,
    ),
    # status/fetch's fail_reason; only the first three are worth a retry.
    "internal": Code("TikTok had an internal problem while processing the post.", retry=True),
    "video_pull_failed": Code(
        "TikTok could not download the video from Cadence's media URL.", retry=True
    ),
    "photo_pull_failed": Code(
        "TikTok could not download the photos from Cadence's media URL.", retry=True
    ),
    "file_format_check_failed": Code(
        "TikTok did not accept the file: its format, or its picture size (each side must be "
        "360 to 4096 px). Export the video as MP4 (H.264) and post it again."
    ),
    "duration_check_failed": Code(
        "The video is longer (or shorter) than TikTok allows for this account."
    ),
    "frame_rate_check_failed": Code("TikTok did not accept the video's frame rate (23–60 fps)."),
    "picture_size_check_failed": Code(
        "A photo is larger than TikTok allows (1080 px on the longer side, 20 MB)."
    ),
    "publish_cancelled": Code("The post was cancelled before TikTok finished it."),
    "auth_removed": Code("The account removed Cadence's access in TikTok. Reconnect it."),
    "spam_risk_text": Code(
        "TikTok flagged the caption as spam. Change the caption and post again."
    ),
    "spam_risk": Code("TikTok flagged the post as spam."),
    # status/fetch errors that no later check can cure: the post ends failed.
    "invalid_publish_id": Code(
        "TikTok doesn't know this post's publish id, so Cadence can't follow it. Check the "
        "TikTok profile before posting it again."
    ),
    "token_not_authorized_for_specified_publish_id": Code(
        "TikTok won't tell this account about the post (the account may have been reconnected "
        "as a different TikTok user). Check the TikTok profile before posting it again."
    ),
    # Cadence's own: a run that TikTok kept refusing or not answering.
    "gave_up": Code(
        "TikTok kept refusing or not answering; nothing was posted. Retry later.", retry=True
    ),
}

# creator_info answers these with HTTP 200: the creator can't post right now.
CANT_POST_NOW = frozenset(
    {"spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"}
)
# status/fetch answers these when asking again can't help.
STATUS_ERROR_CODES = frozenset(
    {"invalid_publish_id", "token_not_authorized_for_specified_publish_id"}
)


def lookup(code: str, fallback: str) -> Code:
    """Return code's meaning; an unknown code reads `fallback` and can't be retried."""
    return CODES.get(code) or Code(fallback)


def cant_post(code: str) -> str:
    """Return why an account can't post now, for the composer and the account check."""
    return lookup(
        code, "TikTok says this account can't post right now. Please try again later."
    ).words


def fail_reason(reason: str) -> Code:
    """Return the meaning of status/fetch's fail_reason."""
    return lookup(reason, f"TikTok could not publish the post ({reason}).")


def init_error(code: str) -> Code:
    """Return the meaning of an init call's refusal."""
    return lookup(code, f"TikTok refused the post ({code}).")


def upload_refused(status: int, code: str) -> Code:
    """Return the meaning of an upload TikTok refused (HTTP status and TikTok's code)."""
    if status == 403:
        return CODES["upload_url_expired"]
    return Code(
        f"TikTok refused the upload (HTTP {status}, {code}); nothing was posted.", retry=True
    )


# Read-only views kept for callers of the former tables.
STATUS_ERRORS = {code: CODES[code].words for code in sorted(STATUS_ERROR_CODES)}
FAIL_REASONS = {
    code: CODES[code].words
    for code in (
        "internal",
        "video_pull_failed",
        "photo_pull_failed",
        "file_format_check_failed",
        "duration_check_failed",
        "frame_rate_check_failed",
        "picture_size_check_failed",
        "publish_cancelled",
        "auth_removed",
        "spam_risk_too_many_posts",
        "spam_risk_user_banned_from_posting",
        "spam_risk_text",
        "spam_risk",
    )
}
RETRYABLE_REASONS = frozenset(code for code in FAIL_REASONS if CODES[code].retry)
