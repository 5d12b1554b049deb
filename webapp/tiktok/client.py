"""A client for TikTok's OAuth and Content Posting API, written against spec/tiktok-api.md.

It knows nothing about the sandbox: only the base URLs differ. It never logs tokens or secrets.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from webapp.tiktok.errors import OAuthError, TikTokError, TransportError

# urllib3 logs every request line at DEBUG, and TikTok's upload URLs carry their credential in
# the query string: keep those lines out of the logs even when an operator turns DEBUG on.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

POSTING_SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload")
USER_FIELDS = ("open_id", "union_id", "avatar_url", "display_name", "username")
DEFAULT_TIMEOUT = (5, 30)  # connect, read
_RANGE_REPLY = re.compile(r"^bytes (\*|(\d+)-(\d+))/(\d+)$")


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint returns."""

    open_id: str
    scope: str
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int

    def __repr__(self) -> str:
        # Tokens never reach logs or tracebacks through repr().
        return f"TokenSet(open_id={self.open_id!r}, scope={self.scope!r})"


class TikTokClient:
    """Talk to TikTok (or anything that speaks its API) for one registered app."""

    def __init__(
        self,
        *,
        auth_base_url: str,
        api_base_url: str,
        client_key: str,
        client_secret: str,
        session: requests.Session | None = None,
        timeout=DEFAULT_TIMEOUT,
    ):
        self.auth_base_url = auth_base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self.client_key = client_key
        self._client_secret = client_secret
        self.session = session or requests.Session()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"TikTokClient(api={self.api_base_url!r}, client_key={self.client_key!r})"

    # --- OAuth -----------------------------------------------------------------------------

    def authorize_url(
        self,
        *,
        redirect_uri: str,
        state: str,
        scopes=POSTING_SCOPES,
        code_challenge: str | None = None,
    ) -> str:
        """Return the URL that asks the user to authorize this app."""
        params = {
            "client_key": self.client_key,
            "scope": ",".join(scopes),
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
        }
        if code_challenge:
            params.update(code_challenge=code_challenge, code_challenge_method="S256")
        return f"{self.auth_base_url}/v2/auth/authorize/?{urlencode(params)}"

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        """Trade an authorization code for tokens."""
        form = {"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self._token_request(form)

    def refresh(self, refresh_token: str) -> TokenSet:
        """Trade a refresh token for new tokens (the old refresh token dies)."""
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, access_token: str) -> None:
        """Revoke an access token (and with it the authorization)."""
        body = self._post_form("/v2/oauth/revoke/", {"token": access_token})
        if body.get("error") and body.get("error") not in {"", "ok"}:
            raise OAuthError(
                str(body.get("error")),
                str(body.get("error_description", "")),
                log_id=str(body.get("log_id", "")),
            )

    def _token_request(self, form: dict) -> TokenSet:
        body = self._post_form("/v2/oauth/token/", form)
        if body.get("error"):
            raise OAuthError(
                str(body["error"]),
                str(body.get("error_description", "")),
                log_id=str(body.get("log_id", "")),
            )
        try:
            return TokenSet(
                open_id=str(body["open_id"]),
                scope=str(body.get("scope", "")),
                access_token=str(body["access_token"]),
                expires_in=int(body["expires_in"]),
                refresh_token=str(body["refresh_token"]),
                refresh_expires_in=int(body.get("refresh_expires_in", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TransportError("the token endpoint answered without the expected fields") from exc

    def _post_form(self, path: str, form: dict) -> dict:
        data = {"client_key": self.client_key, "client_secret": self._client_secret, **form}
        try:
            response = self.session.post(
                self.api_base_url + path,
                data=data,
                timeout=self.timeout,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except requests.RequestException as exc:
            raise TransportError(f"could not reach TikTok ({type(exc).__name__})") from None
        return _json(response)

    # --- API with a user's access token -------------------------------------------------------

    def user_info(self, access_token: str, fields=USER_FIELDS) -> dict:
        """Return the user's profile fields."""
        try:
            response = self.session.get(
                f"{self.api_base_url}/v2/user/info/",
                params={"fields": ",".join(fields)},
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TransportError(f"could not reach TikTok ({type(exc).__name__})") from None
        return _envelope(response).get("user", {})

    def creator_info(self, access_token: str) -> dict:
        """Return creator_info (raises TikTokError with the can't-post-now code, if any)."""
        return self._api_post(access_token, "/v2/post/publish/creator_info/query/", None)

    # --- Content Posting ---------------------------------------------------------------------

    def init_video(
        self, access_token: str, *, source_info: dict, post_info: dict | None, inbox: bool = False
    ) -> dict:
        """Start a Direct Post of a video (or, with inbox, a draft); return publish_id etc."""
        if inbox:
            return self._api_post(
                access_token, "/v2/post/publish/inbox/video/init/", {"source_info": source_info}
            )
        return self._api_post(
            access_token,
            "/v2/post/publish/video/init/",
            {"post_info": post_info, "source_info": source_info},
        )

    def init_photo(
        self, access_token: str, *, post_mode: str, post_info: dict, source_info: dict
    ) -> dict:
        """Start a photo post (DIRECT_POST or MEDIA_UPLOAD); return publish_id."""
        return self._api_post(
            access_token,
            "/v2/post/publish/content/init/",
            {
                "media_type": "PHOTO",
                "post_mode": post_mode,
                "post_info": post_info,
                "source_info": source_info,
            },
        )

    def publish_status(self, access_token: str, publish_id: str) -> dict:
        """Return status/fetch's data for a publish_id."""
        return self._api_post(
            access_token, "/v2/post/publish/status/fetch/", {"publish_id": publish_id}
        )

    def put_chunk(
        self,
        upload_url: str,
        path,
        *,
        first: int,
        last: int,
        total: int,
        content_type: str,
        timeout=(10, 300),
    ) -> ChunkReply:
        """PUT bytes first..last of the file at path, streamed from disk; return the reply."""
        with open(path, "rb") as handle:
            body = FileWindow(handle, first, last - first + 1)
            try:
                response = self.session.put(
                    upload_url,
                    data=body,
                    headers={
                        "Content-Type": content_type,
                        "Content-Length": str(last - first + 1),
                        "Content-Range": f"bytes {first}-{last}/{total}",
                    },
                    timeout=timeout,
                )
            except requests.RequestException as exc:
                raise TransportError(f"the upload was interrupted ({type(exc).__name__})") from None
        return ChunkReply(
            status=response.status_code,
            received=received_from(response.headers.get("Content-Range", "")),
            code=_error_code(response),
        )

    def _api_post(self, access_token: str, path: str, payload: dict | None) -> dict:
        try:
            response = self.session.post(
                self.api_base_url + path,
                data=None if payload is None else json.dumps(payload),
                headers={
                    "Authorization": f"Bearer {access_token}",
                    "Content-Type": "application/json; charset=UTF-8",
                },
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TransportError(f"could not reach TikTok ({type(exc).__name__})") from None
        return _envelope(response)


@dataclass(frozen=True)
class ChunkReply:
    """What TikTok said to one chunk: the HTTP status and how many bytes it holds (None: unsaid)."""

    status: int
    received: int | None
    code: str = ""  # TikTok's error.code when the reply carried its envelope ("ok" on success)


def received_from(content_range: str) -> int | None:
    """Read "bytes 0-N/TOTAL" (N+1 bytes held) or "bytes */TOTAL" (none) from a chunk reply."""
    match = _RANGE_REPLY.match(content_range.strip())
    if not match:
        return None
    return 0 if match.group(1) == "*" else int(match.group(3)) + 1


class FileWindow:
    """A read-only view of `length` bytes of an open file from `offset`, for streaming a chunk
    without holding it in memory (requests reads it piece by piece)."""

    def __init__(self, handle, offset: int, length: int):
        self._handle = handle
        self._left = length
        self._length = length
        handle.seek(offset)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        """Return up to size bytes of the window (1 MiB pieces at most)."""
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else size
        data = self._handle.read(min(max(size, 1 << 20), self._left))
        self._left -= len(data)
        return data


def _error_code(response: requests.Response) -> str:
    """Return error.code from a reply that carries TikTok's envelope, else ""."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise TransportError(
            f"TikTok answered HTTP {response.status_code} without JSON", status=response.status_code
        ) from None
    if not isinstance(body, dict):
        raise TransportError("TikTok answered with unexpected JSON", status=response.status_code)
    return body


def _envelope(response: requests.Response) -> dict:
    """Unwrap {"data", "error"}: success only when error.code is "ok", whatever the HTTP status."""
    body = _json(response)
    error = body.get("error") or {}
    code = str(error.get("code", "")) if isinstance(error, dict) else ""
    data = body.get("data")
    data = data if isinstance(data, dict) else {}
    if code != "ok":
        if not code:
            raise TransportError(
                f"TikTok answered HTTP {response.status_code} without an error code",
                status=response.status_code,
            )
        raise TikTokError(
            code,
            str(error.get("message", "")),
            status=response.status_code,
            log_id=str(error.get("log_id", "")),
            data=data,
        )
    return data
