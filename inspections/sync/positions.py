"""GPS pings: an inspector's track, the latest position of each inspector, and the retention that
deletes old tracks. Keyword-only functions, no HTTP, no commit.

Pings are not audited one by one: a ping is itself a dated record of who was where (user, device,
device and server time) and is never changed; the retention job's deletions are audited as one
summary per run. A live ping is announced in the outbox (`position.reported`) for the live map; of a
pushed batch, the latest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from geoalchemy2.functions import ST_X, ST_Y
from sqlalchemy import Select, delete, insert, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, PermissionDenied
from core.permissions import has_permission
from core.settings import Settings
from core.users.models import User
from inspections.sync.clock import clock_skew, is_skewed, parse_device_time
from inspections.sync.models import Device, GpsPing
from inspections.sync.permissions import POSITIONS_READ_ALL
from inspections.sync.settings import sync_settings


def _check_position(lon: float, lat: float, accuracy_m: float) -> None:
    errors = []
    if not -180 <= lon <= 180:
        errors.append({"field": "lon", "message": "must be between -180 and 180"})
    if not -90 <= lat <= 90:
        errors.append({"field": "lat", "message": "must be between -90 and 90"})
    if not accuracy_m >= 0:  # also refuses NaN
        errors.append({"field": "accuracy_m", "message": "must be 0 or more"})
    if errors:
        raise InvalidInput("The position is not valid: " + "; ".join(f"{e['field']} {e['message']}" for e in errors),
                           errors=errors)


@dataclass(frozen=True)
class PingIn:
    """One ping as a device sends it."""

    lon: float
    lat: float
    accuracy_m: float
    device_time: datetime | str


@dataclass(frozen=True)
class CheckedPing:
    lon: float
    lat: float
    accuracy_m: float
    device_time: datetime


def check_ping(ping: PingIn) -> CheckedPing:
    """The ping with its device time parsed, or InvalidInput naming what is wrong with it."""
    _check_position(ping.lon, ping.lat, ping.accuracy_m)
    return CheckedPing(ping.lon, ping.lat, ping.accuracy_m, parse_device_time(ping.device_time))


def _own_device(db: Session, actor: Actor, device_id: int | None, now: datetime) -> None:
    if device_id is not None:
        device = db.get(Device, device_id)
        if device is None or device.user_id != actor.user_id:
            raise PermissionDenied("A ping comes from one of the sender's own devices.")
        device.last_seen_at = now


def _announce(db: Session, *, actor: Actor, device_id: int | None, ping: CheckedPing, now: datetime,
              flagged: bool) -> None:
    outbox.emit(db=db, event_type="position.reported", entity_type="user", entity_id=str(actor.user_id),
                payload={"user_id": actor.user_id, "device_id": device_id, "lon": ping.lon, "lat": ping.lat,
                         "accuracy_m": ping.accuracy_m, "device_time": ping.device_time.isoformat(),
                         "server_time": now.isoformat(), "skew_flagged": flagged},
                location_wkt=f"POINT({ping.lon!r} {ping.lat!r})")


def record_ping(*, db: Session, actor: Actor, settings: Settings, device_id: int | None, lon: float, lat: float,
                accuracy_m: float, device_time: datetime | str, now: datetime,
                skew_s: float | None = None) -> GpsPing:
    """Store one ping of the acting user (from `device_id`, one of theirs, or none for a browser).

    `skew_s` is the device clock's error measured when it sent the ping. A live ping arrives at once,
    so its own device time against `now` measures it (the default); a ping pushed hours later from
    an offline batch must pass the batch's measure (its `sent_at` against the server clock), or the
    hours spent offline would be taken for a wrong clock.
    """
    checked = check_ping(PingIn(lon, lat, accuracy_m, device_time))
    _own_device(db, actor, device_id, now)
    skew = clock_skew(checked.device_time, now) if skew_s is None else skew_s
    ping = GpsPing(user_id=actor.user_id, device_id=device_id, position=f"SRID=4326;POINT({lon!r} {lat!r})",
                   accuracy_m=accuracy_m, device_time=checked.device_time, server_time=now, skew_s=skew,
                   skew_flagged=is_skewed(skew, threshold_s=sync_settings(settings).clock_skew_threshold_s))
    db.add(ping)
    db.flush()
    _announce(db, actor=actor, device_id=device_id, ping=checked, now=now, flagged=ping.skew_flagged)
    return ping


def record_pings(*, db: Session, actor: Actor, settings: Settings, device_id: int, pings: Sequence[CheckedPing],
                 now: datetime, skew_s: float) -> list[int]:
    """Store a pushed batch of checked pings (a device's offline hours: a ping every few minutes) in one
    statement; their ids in the same order. Only the latest by device time is announced on the live map
    (`position.reported`): the console shows where each inspector is now, the track is in the table."""
    if not pings:
        return []
    _own_device(db, actor, device_id, now)
    flagged = is_skewed(skew_s, threshold_s=sync_settings(settings).clock_skew_threshold_s)
    rows = [{"user_id": actor.user_id, "device_id": device_id, "position": f"SRID=4326;POINT({p.lon!r} {p.lat!r})",
             "accuracy_m": p.accuracy_m, "device_time": p.device_time, "server_time": now, "skew_s": skew_s,
             "skew_flagged": flagged} for p in pings]
    # One INSERT .. VALUES (..), (..) RETURNING id for all rows (psycopg's insertmanyvalues), ids in row order.
    ids = list(db.scalars(insert(GpsPing).returning(GpsPing.id, sort_by_parameter_order=True), rows))
    latest = max(pings, key=lambda p: p.device_time)
    _announce(db, actor=actor, device_id=device_id, ping=latest, now=now, flagged=flagged)
    return ids


@dataclass(frozen=True)
class Position:
    """One ping as the live view and the track show it."""

    user_id: int
    username: str
    device_id: int | None
    lon: float
    lat: float
    accuracy_m: float
    device_time: datetime
    server_time: datetime
    skew_s: float
    skew_flagged: bool
    age_s: float


def report_position(*, db: Session, actor: Actor, settings: Settings, device_id: int | None, lon: float,
                    lat: float, accuracy_m: float, device_time: datetime | str, now: datetime) -> Position:
    """A live app's ping (`record_ping`), answered as the live view shows it."""
    ping = record_ping(db=db, actor=actor, settings=settings, device_id=device_id, lon=lon, lat=lat,
                       accuracy_m=accuracy_m, device_time=device_time, now=now)
    return Position(user_id=ping.user_id, username=actor.username, device_id=ping.device_id, lon=lon, lat=lat,
                    accuracy_m=ping.accuracy_m, device_time=ping.device_time, server_time=ping.server_time,
                    skew_s=ping.skew_s, skew_flagged=ping.skew_flagged, age_s=0.0)


def _positions(db: Session, stmt: Select[Any], now: datetime) -> list[Position]:
    return [Position(user_id=row.user_id, username=row.username, device_id=row.device_id, lon=row.lon, lat=row.lat,
                     accuracy_m=row.accuracy_m, device_time=row.device_time, server_time=row.server_time,
                     skew_s=row.skew_s, skew_flagged=row.skew_flagged,
                     age_s=(now - row.server_time).total_seconds()) for row in db.execute(stmt)]


def _columns() -> list[Any]:
    return [GpsPing.user_id, User.username, GpsPing.device_id, ST_X(GpsPing.position).label("lon"),
            ST_Y(GpsPing.position).label("lat"), GpsPing.accuracy_m, GpsPing.device_time, GpsPing.server_time,
            GpsPing.skew_s, GpsPing.skew_flagged]


def _visible_user(actor: Actor, user_id: int | None) -> int | None:
    """Whose pings `actor` may read: anyone's for dispatchers and supervisors (None: all), else only
    their own (asking for someone else's is refused)."""
    if has_permission(actor.role, POSITIONS_READ_ALL):
        return user_id
    if user_id is not None and user_id != actor.user_id:
        raise PermissionDenied("An inspector sees only their own positions.")
    return actor.user_id


def latest_positions(*, db: Session, actor: Actor, now: datetime) -> list[Position]:
    """The newest ping (by server time) of each inspector the caller may see, with its age."""
    user_id = _visible_user(actor, None)
    stmt = (select(*_columns()).join(User, User.id == GpsPing.user_id)
            .ext(distinct_on(GpsPing.user_id)).order_by(GpsPing.user_id, GpsPing.server_time.desc(), GpsPing.id.desc()))
    if user_id is not None:
        stmt = stmt.where(GpsPing.user_id == user_id)
    return _positions(db, stmt, now)


def track(*, db: Session, actor: Actor, settings: Settings, now: datetime, user_id: int | None,
          time_from: datetime, time_to: datetime) -> list[Position]:
    """A user's pings between two server times, oldest first, flagged ones included and marked
    (their device time is not to be trusted; the server time orders them)."""
    if time_to < time_from:
        raise InvalidInput("to is before from.", errors=[{"field": "to", "message": "before from"}])
    who = _visible_user(actor, user_id)
    if who is None:
        raise InvalidInput("Name the user whose track to show.", errors=[{"field": "user", "message": "required"}])
    stmt = (select(*_columns()).join(User, User.id == GpsPing.user_id)
            .where(GpsPing.user_id == who, GpsPing.server_time >= time_from, GpsPing.server_time <= time_to)
            .order_by(GpsPing.server_time, GpsPing.id).limit(sync_settings(settings).positions_track_max_points))
    return _positions(db, stmt, now)


def purge_old_pings(*, db: Session, actor: Actor, settings: Settings, now: datetime) -> int:
    """Delete pings older than the retention (by server time); one audit record says how many and
    up to when."""
    cutoff = now - timedelta(days=sync_settings(settings).ping_retention_days)
    result = db.execute(delete(GpsPing).where(GpsPing.server_time < cutoff))
    deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit_service.record(db=db, actor=actor, action="gps_pings.retention", entity_type="gps_pings",
                         entity_id="retention", before=None,
                         after={"deleted": deleted, "older_than": cutoff.isoformat(),
                                "retention_days": sync_settings(settings).ping_retention_days})
    return deleted

