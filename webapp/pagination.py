"""Page through a peewee query without loading it whole."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import peewee as pw
from peewee import Tuple


@dataclass
class Page:
    """One page of a query's rows, with what a pager needs."""

    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Return the number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        """Tell whether a previous page exists."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Tell whether a next page exists."""
        return self.number < self.pages


def paginate(query: pw.ModelSelect, page: str | int | None, per_page: int = 20) -> Page:
    """Return page number `page` (1-based; bad values mean 1) of query."""
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    total = query.count()
    number = min(number, max(1, -(-total // per_page)))
    return Page(list(query.paginate(number, per_page)), number, per_page, total)


# --- Keyset pages: for long lists, where OFFSET and a total count grow with the history ---------

_CURSOR = re.compile(r"(\d{8}T\d{6})(?:\.(\d{6}))?-(\d{1,18})")


@dataclass(frozen=True)
class Cursor:
    """A place in a list ordered by (time, id), newest first: the row at `at`, `id`."""

    at: dt.datetime
    id: int

    def token(self) -> str:
        """Return the cursor as it travels in a link, e.g. 20260615T120000-4182."""
        fraction = f".{self.at.microsecond:06d}" if self.at.microsecond else ""
        return f"{self.at:%Y%m%dT%H%M%S}{fraction}-{self.id}"

    @classmethod
    def parse(cls, token: str) -> Cursor | None:
        """Return the cursor a token names, or None when it isn't one."""
        match = _CURSOR.fullmatch(token.strip())
        if not match:
            return None
        stamp, fraction, row_id = match.groups()
        try:
            at = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S")
        except ValueError:
            return None
        return cls(at.replace(microsecond=int(fraction or 0)), int(row_id))


@dataclass
class KeysetPage:
    """One page of a list ordered newest first, with the cursors of its neighbours.

    `newer` / `older` are the cursors for the "Newer" / "Older" links (None: no such page).
    `notice` says why the first page is shown instead of the one asked for.
    """

    items: list
    newer: Cursor | None
    older: Cursor | None
    notice: str = ""

    @property
    def is_first(self) -> bool:
        """Tell whether this is the newest page."""
        return self.newer is None


BAD_CURSOR = "That page link isn't valid; showing the newest posts."
GONE_CURSOR = "Nothing is left past that page; showing the newest posts."


def keyset_page(
    query: pw.ModelSelect,
    at: pw.Field,
    key: pw.Field,
    *,
    older: str | None = None,
    newer: str | None = None,
    per_page: int = 20,
) -> KeysetPage:
    """Return the page of query (ordered by at, key, newest first) just older than the cursor
    `older`, or just newer than `newer`, or else the newest page.

    Each page reads per_page + 1 rows from an index on (filters…, at, key) and one more row to
    learn whether the other direction has any, whatever the depth: no OFFSET and no count.
    """
    position = Tuple(at, key)
    token, going_older = (older, True) if older else (newer, False)
    if not token:
        return _newest(query, at, key, position, per_page, "")
    cursor = Cursor.parse(token)
    if cursor is None or cursor.id > 2**63 - 1:
        return _newest(query, at, key, position, per_page, BAD_CURSOR)
    mark = Tuple(cursor.at, cursor.id)
    if going_older:
        rows = list(
            query.where(position < mark).order_by(at.desc(), key.desc()).limit(per_page + 1)
        )
        if not rows:
            return _newest(query, at, key, position, per_page, GONE_CURSOR)
        items = rows[:per_page]
        first = _cursor(items[0], at, key)
        has_newer = _any(
            query.where(position > Tuple(first.at, first.id)), key, at.asc(), key.asc()
        )
        return KeysetPage(
            items,
            newer=first if has_newer else None,
            older=_cursor(items[-1], at, key) if len(rows) > per_page else None,
        )
    rows = list(query.where(position > mark).order_by(at.asc(), key.asc()).limit(per_page + 1))
    if len(rows) <= per_page:  # nothing newer than these: that is the newest page, kept full
        return _newest(query, at, key, position, per_page, "")
    items = rows[:per_page][::-1]
    last = _cursor(items[-1], at, key)
    has_older = _any(query.where(position < Tuple(last.at, last.id)), key, at.desc(), key.desc())
    return KeysetPage(items, newer=_cursor(items[0], at, key), older=last if has_older else None)


def _newest(query, at, key, position, per_page: int, notice: str) -> KeysetPage:
    rows = list(query.order_by(at.desc(), key.desc()).limit(per_page + 1))
    items = rows[:per_page]
    older = _cursor(items[-1], at, key) if len(rows) > per_page else None
    return KeysetPage(items, newer=None, older=older, notice=notice)


def _any(query: pw.ModelSelect, key: pw.Field, *order) -> bool:
    """Tell whether query has a row, reading the first in index order (a bare EXISTS may scan
    the table, whose rows lie in the order they were written: the newest all at its end)."""
    return query.select(key).order_by(*order).limit(1).scalar() is not None


def _cursor(row, at: pw.Field, key: pw.Field) -> Cursor:
    return Cursor(getattr(row, at.name), getattr(row, key.name))


# --- The same small query over many ranges (the Calendar's days) -----------------------------


def _over_ranges(
    query_for: Callable[[object, object], pw.Select], ranges: list[tuple[object, object]]
) -> tuple[str, list]:
    """Return the SQL of query_for(lo, hi) and the parameters of every range, in order.

    query_for runs once, with stand-ins for the bounds; its parameters are then repeated with
    each range's bounds in their places. (Building dozens of alike peewee queries costs more
    than the database takes to answer them.)"""
    lo, hi = object(), object()
    sql, params = query_for(lo, hi).sql()
    if not any(p is lo for p in params) or not any(p is hi for p in params):
        raise ValueError("query_for must use both bounds as parameters")
    filled = []
    for low, high in ranges:
        filled += [low if p is lo else high if p is hi else p for p in params]
    return sql, filled


def _lateral(query_for: Callable[[object, object], pw.Select], ranges: list[tuple[object, object]]):
    """Return PostgreSQL SQL and parameters that run query_for once per range through one
    LATERAL join over the ranges: one small plan, where a UNION of dozens of copies costs
    PostgreSQL more to plan (~10 ms for a month of days) than to run."""
    lo, hi = object(), object()
    sql, params = query_for(lo, hi).sql()
    pieces = sql.split("%s")
    if len(pieces) != len(params) + 1:
        raise ValueError("query_for's SQL holds a literal %s")
    inner, kept = [pieces[0]], []
    for param, piece in zip(params, pieces[1:], strict=True):
        if param is lo:
            inner.append("r.lo")
        elif param is hi:
            inner.append("r.hi")
        else:
            inner.append("%s")
            kept.append(param)
        inner.append(piece)
    values = ", ".join(["(%s, %s::timestamp, %s::timestamp)"] * len(ranges))
    bounds = [value for n, (low, high) in enumerate(ranges) for value in (n, low, high)]
    return (
        f"SELECT r.n, x.* FROM (VALUES {values}) AS r(n, lo, hi) "  # noqa: S608 - peewee SQL
        f"CROSS JOIN LATERAL ({''.join(inner)}) AS x ORDER BY r.n",
        bounds + kept,
    )


def rows_per_range(
    query_for: Callable[[object, object], pw.Select], ranges: list[tuple[object, object]]
) -> list[tuple]:
    """Return the rows of query_for(lo, hi) (each with its own ORDER BY and LIMIT) for every
    range (in no promised order), in one round trip: on PostgreSQL one LATERAL join over the
    ranges (the bounds must be timestamps), elsewhere SELECT * FROM (q) AS r0 UNION ALL
    SELECT * FROM (q) AS r1 …. Values are converted as the query's fields convert them."""
    if not ranges:
        return []
    query = query_for(None, None)
    database = query.model._meta.database
    if isinstance(database, pw.PostgresqlDatabase):
        sql, params = _lateral(query_for, ranges)
        rows = [row[1:] for row in database.execute_sql(sql, params).fetchall()]
    else:
        sql, params = _over_ranges(query_for, ranges)
        parts = (f"SELECT * FROM ({sql}) AS r{n}" for n in range(len(ranges)))  # noqa: S608
        rows = database.execute_sql(" UNION ALL ".join(parts), params).fetchall()
    convert = [getattr(column, "python_value", None) for column in query._returning]
    return [
        tuple(v if f is None or v is None else f(v) for f, v in zip(convert, row, strict=True))
        for row in rows
    ]


def value_per_range(
    query_for: Callable[[object, object], pw.Select], ranges: list[tuple[object, object]]
) -> list:
    """Return the single value of query_for(lo, hi) (e.g. a count) for every range, in one
    round trip: on PostgreSQL one LATERAL join over the ranges (timestamps), elsewhere
    SELECT (q), (q), …"""
    if not ranges:
        return []
    database = query_for(None, None).model._meta.database
    if isinstance(database, pw.PostgresqlDatabase):
        sql, params = _lateral(query_for, ranges)
        return [row[1] for row in database.execute_sql(sql, params).fetchall()]
    sql, params = _over_ranges(query_for, ranges)
    select = "SELECT " + ", ".join([f"({sql})"] * len(ranges))
    return list(database.execute_sql(select, params).fetchone())
