"""Rows of ``tag_samples``: a historised tag's value as a number or as text, and the list
of the tags the archive holds."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Engine, select

from evsuper.core.tags import Sample, TagPath
from evsuper.historian import schema


def tag_value(value: Any) -> tuple[float | None, str | None]:
    """(number, None) for numbers and booleans, (None, text) for anything else."""
    if isinstance(value, bool):
        return float(value), None
    if isinstance(value, int | float):
        return float(value), None
    if value is None:
        return None, None
    if isinstance(value, Enum):
        return None, str(value.value)
    if isinstance(value, datetime):
        return None, value.isoformat()
    return None, str(value)


def tag_row(path: TagPath, ts: datetime, sample: Sample) -> dict[str, Any]:
    value, text = tag_value(sample.value)
    return {"ts": ts, "tag": path, "value": value, "text": text, "quality": sample.quality.value}


def historised_tags(engine: Engine, prefix: str = "") -> list[TagPath]:
    """The tags with numeric samples in the archive (under ``prefix`` when given)."""
    t = schema.tag_samples
    query = select(t.c.tag).where(t.c.value.is_not(None)).distinct().order_by(t.c.tag)
    if prefix:
        query = query.where(t.c.tag.startswith(prefix, autoescape=True))
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())
