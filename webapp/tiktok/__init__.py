"""Talking to TikTok: the API client and its errors."""

from webapp.tiktok.client import POSTING_SCOPES, TikTokClient, TokenSet
from webapp.tiktok.errors import CANT_POST_NOW, OAuthError, TikTokError, TransportError

__all__ = [
    "CANT_POST_NOW",
    "POSTING_SCOPES",
    "OAuthError",
    "TikTokClient",
    "TikTokError",
    "TokenSet",
    "TransportError",
]
