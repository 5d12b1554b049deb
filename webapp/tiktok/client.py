"""A client for TikTok's OAuth and Content Posting API, written against spec/tiktok-api.md.

It knows nothing about the sandbox: only the base URLs differ. It never logs tokens or secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from webapp.tiktok.errors import OAuthError, TikTokError, TransportError

POSTING_SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload")
USER_FIELDS = ("open_id", "union_id", "avatar_url", "display_name", "username")
DEFAULT_TIMEOUT = (5, 30)  # connect, read


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
