"""Files TikTok pulls (PULL_FROM_URL, and every photo post): unguessable addresses under the
verified media URL prefix, served by `/pull/<token>/<name>` (webapp/media/views.py) without
login, with Range support and never a redirect (TikTok refuses redirects).

A token is signed with the time it was minted and lives for the publish window plus a margin:
the publish job mints it when it sends the post to TikTok (never when the post is scheduled), so
an address that leaks later stops working.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from webapp.models import Media
from webapp.publishing import UNCONFIRMED_AFTER

SALT = "cadence-pull-media"
# TikTok downloads during processing, which Cadence follows for UNCONFIRMED_AFTER; the margin
# covers TikTok's retries of a failed download and slow processing of large files.
MARGIN = dt.timedelta(hours=24)
LIFETIME = UNCONFIRMED_AFTER + MARGIN


class _MintedAt(TimestampSigner):
    """A timestamp signer whose time can be given (the time a token was minted)."""

    def __init__(self, *args, minted_at: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.minted_at = minted_at

    def get_timestamp(self) -> int:
        """Return the minting time, or now."""
        return int(self.minted_at if self.minted_at is not None else time.time())


def _serializer(secret_key: str, minted_at: float | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key, salt=SALT, signer=_MintedAt, signer_kwargs={"minted_at": minted_at}
    )


def pull_url(media: Media, prefix: str, secret_key: str, *, minted_at: float | None = None) -> str:
    """Return the address TikTok downloads media from (prefix + timed token + file name)."""
    token = _serializer(secret_key, minted_at).dumps(media.id)
    base = prefix if prefix.endswith("/") else prefix + "/"
    return f"{base}{token}/{Path(media.stored_name).name}"


def minted_at(token: str, secret_key: str) -> float:
    """Return when a valid pull token was minted (Unix time); raise BadSignature otherwise."""
    _media_id, when = _serializer(secret_key).loads(token, return_timestamp=True)
    return when.timestamp()


class Expired(Exception):
    """A genuine pull address whose lifetime is over (the post's publish window is long past)."""


def resolve(token: str, name: str, secret_key: str) -> Media | None:
    """Return the media a pull address names, None when it names nothing (or is forged); raise
    Expired when it was genuine but is too old."""
    try:
        media_id = _serializer(secret_key).loads(token, max_age=int(LIFETIME.total_seconds()))
    except SignatureExpired as exc:
        raise Expired() from exc
    except BadSignature:
        return None
    media = Media.get_or_none((Media.id == media_id) & (Media.status != "deleted"))
    if media is None or Path(media.stored_name).name != name:
        return None
    return media
