"""Device clocks are wrong: how wrong, and when that is worth a flag."""

from __future__ import annotations

from datetime import datetime

from core.errors import InvalidInput


def clock_skew(device_time: datetime, server_time: datetime) -> float:
    """Seconds the device clock is ahead of the server's (negative: behind), both read at one moment
    (the device stamps what it sends, the server stamps its arrival)."""
    return (device_time - server_time).total_seconds()


def is_skewed(skew_s: float, *, threshold_s: float) -> bool:
    return abs(skew_s) > threshold_s


def parse_device_time(value: datetime | str, *, field: str = "device_time") -> datetime:
    """A device's timestamp with its offset (ISO 8601); a time without one cannot be placed: 422."""
    try:
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} is not an ISO 8601 time.", errors=[{"field": field, "message": "not a time"}]) \
            from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInput(f"{field} needs a UTC offset (e.g. 2026-11-29T08:00:00+08:00).",
                           errors=[{"field": field, "message": "no UTC offset"}])
    return parsed
