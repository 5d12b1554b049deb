"""Base model, portable field types and time helpers shared by every model."""

from __future__ import annotations

import datetime as dt
import json

import peewee as pw

from webapp.db import db


def utcnow() -> dt.datetime:
    """Return the current UTC time as a naive datetime (how every timestamp is stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class JSONField(pw.TextField):
    """A JSON document stored as text, so SQLite and PostgreSQL behave alike."""

    def db_value(self, value):
        """Serialize a Python value for storage."""
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value):
        """Parse the stored text back into Python values."""
        return None if value is None else json.loads(value)


class BaseModel(pw.Model):
    """Every table: bound to the shared proxy, snake_case table names."""

    class Meta:
        database = db
        legacy_table_names = False


class TimestampedModel(BaseModel):
    """A model with created_at and updated_at kept by save()."""

    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    def save(self, *args, **kwargs):
        """Save, stamping updated_at."""
        self.updated_at = utcnow()
        return super().save(*args, **kwargs)
