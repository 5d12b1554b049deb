"""What can go wrong when talking to TikTok, as exceptions that carry TikTok's own codes."""

from __future__ import annotations

from webapp.publishing.codes import CANT_POST_NOW  # noqa: F401 - creator_info's can't-post codes


class TikTokError(Exception):
    """TikTok refused or failed a request; `code` is TikTok's error code."""

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        log_id: str = "",
        data: dict | None = None,
    ):
        super().__init__(f"{code}: {message}" if message else code)
        self.data = data or {}  # creator_info still describes the creator when they can't post
        self.code = code
        self.message = message
        self.status = status
        self.log_id = log_id

    @property
    def retryable(self) -> bool:
        """Tell whether trying the same request again later may succeed."""
        return (
            self.code
            in {
                "rate_limit_exceeded",
                "internal_error",
                "server_error",
                "temporarily_unavailable",
                "network_error",
            }
            or (self.status or 0) >= 500
        )


class OAuthError(TikTokError):
    """The token endpoint refused (invalid_grant, invalid_client, ...)."""


class TransportError(TikTokError):
    """TikTok could not be reached or answered something that isn't its API."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__("network_error", message, status=status)
