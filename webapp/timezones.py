"""Time zones: stored times are naive UTC; people see them in their own zone."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1)
def all_zones() -> list[str]:
    """Return every IANA zone name, sorted."""
    return sorted(available_timezones())


def is_valid_zone(name: str) -> bool:
    """Tell whether name is a known IANA time zone."""
    if not name or name not in set(all_zones()):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_for(user, default: str = "UTC") -> ZoneInfo:
    """Return the zone to show times in for user: theirs, else the installation default."""
    name = getattr(user, "timezone", None) or default or "UTC"
    return ZoneInfo(name) if is_valid_zone(name) else ZoneInfo("UTC")


def to_local(moment: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """Convert a stored naive-UTC datetime to an aware one in zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC).astimezone(zone)


def to_utc(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Convert a wall-clock time in zone to the naive UTC we store."""
    return local.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
