"""Page through a peewee query without loading it whole."""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw


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
