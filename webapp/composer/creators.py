"""Fresh creator_info for the composer: asked when a panel renders, cached 60 s per account
(TikTok allows 20 calls a minute per token), so typing doesn't spend the allowance."""

from __future__ import annotations

import json

import redis as redis_lib

from webapp.models import Account
from webapp.tiktok import CANT_POST_NOW, TikTokClient, TikTokError, ratelimit
from webapp.tiktok.rules import Creator
from webapp.tiktok.tokens import ReconnectNeeded, valid_access_token

CACHE_SECONDS = 60


def _key(account_id: int) -> str:
    return f"cadence:creator_info:{account_id}"


def creator_for(
    account: Account, *, client: TikTokClient, redis: redis_lib.Redis, fresh: bool = False
) -> tuple[Creator | None, str]:
    """Return (creator, problem): creator_info for account, or None and why it couldn't be read."""
    if account.status != "connected":
        return None, account.status_reason or "This account needs to be reconnected."
    cached = None if fresh else redis.get(_key(account.id))
    if cached:
        body = json.loads(cached)
        return _identified(Creator.from_api(body["data"], body["code"]), account), ""
    wait = ratelimit.take(redis, account.id, "creator_info")  # shared with the publish jobs
    if wait:
        return None, (
            f"TikTok's limit of creator checks for this account is reached; "
            f"try again in {int(wait) + 1} s."
        )
    try:
        token = valid_access_token(account.id, client=client, redis=redis)
        data, code = client.creator_info(token), ""
    except ReconnectNeeded as exc:
        return None, str(exc)
    except TikTokError as exc:
        if exc.code not in CANT_POST_NOW:
            return None, "TikTok could not be asked about this account right now. Please try again."
        data, code = exc.data, exc.code
    redis.set(_key(account.id), json.dumps({"data": data, "code": code}), ex=CACHE_SECONDS)
    return _identified(Creator.from_api(data, code), account), ""


def _identified(creator: Creator, account: Account) -> Creator:
    # Who the account is must show even when creator_info said nothing (can't post now).
    return creator.known_as(
        nickname=account.display_name, username=account.username, avatar_url=account.avatar_url
    )
