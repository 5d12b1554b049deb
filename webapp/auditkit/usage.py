"""The installation's real usage, offered as a starting point for the audit application's
estimate (customers × TikTok accounts per customer × videos per account per day).

A customer is a workspace with at least one connected TikTok account; its accounts are the ones
still connected (or waiting to be reconnected); the videos are the posts made in the last
WINDOW_DAYS days that were published or are scheduled, one per account they go to.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import peewee as pw

from webapp.models import Account, Post, PostTarget, utcnow

WINDOW_DAYS = 30
# Accounts that count as connected: the customer still posts with them (a lapsed token is
# reconnected, not given up).
IN_USE = ("connected", "reconnect_needed")
# Posts that count: sent to TikTok, or on their way there.
POSTED = ("published", "scheduled")
# The application form's limits (webapp/admin/forms.py AuditKitForm).
MAX_VIDEOS_PER_DAY = 15


@dataclass(frozen=True)
class Usage:
    """Real counts and the whole numbers the application's form takes from them."""

    customers: int  # workspaces with connected accounts
    accounts: int  # connected accounts in them
    posts: int  # published or scheduled posts (per account) made in the window
    window_days: int = WINDOW_DAYS

    @property
    def accounts_per_customer(self) -> int:
        """Return the average accounts per customer, rounded up (0 without customers)."""
        return math.ceil(self.accounts / self.customers) if self.customers else 0

    @property
    def videos_per_day(self) -> float:
        """Return the posts per account per day over the window, as measured."""
        return self.posts / self.accounts / self.window_days if self.accounts else 0.0

    @property
    def videos_per_account_per_day(self) -> int:
        """Return videos_per_day as the form takes it: rounded up, at least 1, at most 15."""
        return min(MAX_VIDEOS_PER_DAY, max(1, math.ceil(self.videos_per_day)))

    @property
    def offered(self) -> bool:
        """Tell whether there is anything to offer (some workspace has a connected account)."""
        return self.customers > 0

    def fields(self) -> dict[str, int]:
        """Return the values for the form's three fields."""
        return {
            "customers": self.customers,
            "accounts_per_customer": self.accounts_per_customer,
            "videos_per_account_per_day": self.videos_per_account_per_day,
        }


def measure(now: dt.datetime | None = None) -> Usage:
    """Count the installation's customers, connected accounts and recent posts."""
    since = (now or utcnow()) - dt.timedelta(days=WINDOW_DAYS)
    in_use = Account.status.in_(IN_USE)
    customers, accounts = (
        Account.select(pw.fn.COUNT(pw.fn.DISTINCT(Account.workspace)), pw.fn.COUNT(Account.id))
        .where(in_use)
        .tuples()
        .get()
    )
    posts = (
        PostTarget.select()
        .join(Post)
        .switch(PostTarget)
        .join(Account)
        .where(in_use & PostTarget.status.in_(POSTED) & (Post.created_at >= since))
        .count()
    )
    return Usage(customers=customers or 0, accounts=accounts or 0, posts=posts)
