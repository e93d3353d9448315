"""Typed request dependencies: database unit of work, the acting user, permissions, query parsing.

Each dependency turns raw request data into a typed value or raises a domain error, which
`api.errors` renders. Handlers therefore only ever see validated values.

Dependencies that neither block nor do I/O are `async def`: FastAPI runs every plain `def`
dependency in the thread pool, and each such hop is two thread wake-ups, which on a loaded
machine cost more than the work itself. Only what blocks (database, Redis) goes to the pool.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import anyio
import anyio.to_thread
import redis
from celery import Celery
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.bounds import INT64_MAX, INT64_MIN, DbInt
from core.context import Actor
from core.database import (
    after_commit,
    replayed_position,
    unit_of_work,
    written_position,
)
from core.errors import InvalidInput, NotAuthenticated, PermissionDenied, PreconditionRequired
from core.permissions import Permission, Role, has_permission
from core.read_your_writes import position_to_wait_for, remember_write
from core.registry import Domains
from core.security import TokenClaims, decode_token
from core.settings import Settings
from core.storage import ObjectStorage
from core.users import sessions
from core.users import tokens as personal_tokens
from gis.geo.crs import parse_crs, to_storage
from gis.layers.catalogue import layers_of
from gis.layers.spec import AnyLayer, BBoxFilter
from inspections.sync import devices

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
logger = logging.getLogger(__name__)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_storage(request: Request) -> ObjectStorage:
    return request.app.state.storage


async def get_celery(request: Request) -> Celery:
    return request.app.state.celery


async def get_domains(request: Request) -> Domains:
    """The domains this app was composed of (for what core gathers from all of them)."""
    return request.app.state.domains


async def get_catalogue(request: Request) -> tuple[AnyLayer, ...]:
    """The map layers of the domains this app was composed of (built once per set of domains)."""
    return layers_of(request.app.state.domains)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request, committed before the response is sent (scope="function").

    Opening the session does no I/O (it connects on its first query, in the handler's thread), so
    only the end of the unit of work (commit or rollback) goes to the thread pool."""
    work = unit_of_work(request.app.state.session_factory)
    session = work.__enter__()
    if request.method not in SAFE_METHODS and read_session_factory(request.app) is not None:
        after_commit(session, lambda: _remember_write(request, session))
    # As fastapi.concurrency.contextmanager_in_threadpool: the end runs even when the request is
    # cancelled, and outside the pool's capacity limit (it may hold a connection others wait for).
    finish = anyio.CapacityLimiter(1)
    try:
        yield session
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            handled = await anyio.to_thread.run_sync(work.__exit__, type(exc), exc, exc.__traceback__,
                                                     limiter=finish)
        if not handled:
            raise
    else:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(work.__exit__, None, None, None, limiter=finish)


DbSession = Annotated[Session, Depends(get_db, scope="function")]

# --- Reads from the replica, with read-your-writes (issue 14; the positions: core.read_your_writes) ------
# A write (any unsafe method) by a signed-in user records the primary's WAL position after its commit;
# that user's reads go to the replica only once it has replayed that far, else to the primary. Everyone
# else reads the replica. Without Redis the reads go to the primary (a position that cannot be read
# cannot be honoured).

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def read_session_factory(app: FastAPI) -> sessionmaker[Session] | None:
    """Sessions on the read replica (made by the app factory); None without `GW_DATABASE_READ_URL`."""
    factory: sessionmaker[Session] | None = getattr(app.state, "read_session_factory", None)
    return factory


def _remember_write(request: Request, session: Session) -> None:
    """After a user's write committed: remember how far the primary's WAL is, for their next reads. A
    failure here cannot undo the write; it is logged, and that user's next reads may miss it on the
    replica until it catches up."""
    user_id = getattr(request.state, "user_id", None)
    if user_id is None:
        return
    settings: Settings = request.app.state.settings
    try:
        remember_write(request.app.state.redis, user_id=user_id, position=written_position(session),
                       keep_s=settings.database.read_your_writes_s)
    except (DBAPIError, redis.RedisError):
        logger.warning("could not record the WAL position of user %s's write; their reads may miss it on the "
                       "replica for a moment", user_id, exc_info=True)


def _position_to_wait_for(request: Request, user_id: int | None) -> int | None:
    """The WAL position this user's reads must see (0: no recent write); None when Redis cannot say."""
    if user_id is None:
        return 0
    try:
        return position_to_wait_for(request.app.state.redis, user_id=user_id)
    except redis.RedisError:
        logger.warning("Redis did not answer; reading from the primary")
        return None


def _caught_up(replica: Session, position: int) -> bool:
    """The replica answers as a standby and has replayed `position`; a replica that is down or promoted
    is not used (the read goes to the primary)."""
    try:
        replayed = replayed_position(replica)
    except DBAPIError:
        logger.warning("the read replica did not answer; reading from the primary", exc_info=True)
        try:
            replica.rollback()
        except DBAPIError:
            pass
        return False
    return replayed is not None and replayed >= position


def get_read_db(request: Request, db: DbSession, actor: CurrentActor) -> Iterator[Session]:
    """The session a read-only map request reads with: the replica when it has everything this user
    wrote, else the request's primary session (`db`, which also serves when no replica is configured).
    `request.state.read_from` says which ("replica" or "primary")."""
    factory = read_session_factory(request.app)
    position = None if factory is None else _position_to_wait_for(request, actor.user_id)
    if factory is not None and position is not None:
        with unit_of_work(factory) as replica:
            if _caught_up(replica, position):
                request.state.read_from = "replica"
                yield replica
                return
    request.state.read_from = "primary"
    yield db



# What time it is, for the domain: deadlines, case numbers by local year, the overdue list. The
# app factory puts a clock on `app.state.clock` (the real UTC time unless told otherwise), so a
# test can set the moment a request is made and go through the API like any client.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


async def current_time(request: Request) -> datetime:
    """The moment of this request, read once, from the app's clock."""
    clock: Clock = request.app.state.clock
    return clock()


Now = Annotated[datetime, Depends(current_time)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Storage = Annotated[ObjectStorage, Depends(get_storage)]
CeleryApp = Annotated[Celery, Depends(get_celery)]
InstalledDomains = Annotated[Domains, Depends(get_domains)]
Catalogue = Annotated[tuple[AnyLayer, ...], Depends(get_catalogue)]


async def get_cache(request: Request) -> redis.Redis:
    """The Redis client of session checks and sign-in throttling (short timeouts; see AuthSettings)."""
    return request.app.state.redis


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    """For work that must commit on its own, such as the audit record of a refused sign-in."""
    return request.app.state.session_factory


async def client_address(request: Request) -> str:
    """The peer address (behind a reverse proxy, run uvicorn with --proxy-headers so this is the client)."""
    return request.client.host if request.client else "unknown"


Cache = Annotated[redis.Redis, Depends(get_cache)]
SessionFactory = Annotated[sessionmaker[Session], Depends(get_session_factory)]
ClientAddress = Annotated[str, Depends(client_address)]


def _credential(request: Request, bearer_token: str | None) -> tuple[str | None, str | None]:
    """(credential, username): a bearer token, or HTTP Basic's password and username (how GDAL and
    QGIS send a stored personal access token). An unreadable Basic header is no credential."""
    if bearer_token:
        return bearer_token, None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        username, separator, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return (password, username) if separator else (None, None)


def get_token_claims(request: Request, settings: AppSettings, db: DbSession, cache: Cache, now: Now,
                     token: Annotated[str | None, Depends(oauth2_scheme)]) -> TokenClaims:
    """A verified token whose user is still active, on the same token version, and not signed out; or
    a personal access token (Bearer, or HTTP Basic with the owner's username) with its owner's
    current role."""
    credential, username = _credential(request, token)
    if not credential:
        raise NotAuthenticated("Sign in first: send 'Authorization: Bearer <token>' (or HTTP Basic with your "
                               "username and a personal access token).")
    if personal_tokens.is_personal_token(credential):
        personal = personal_tokens.claims_for(db=db, cache=cache, settings=settings.auth, now=now,
                                              secret=credential, username=username)
        request.state.user_id = personal.user_id
        return personal
    if username is not None:
        raise NotAuthenticated("HTTP Basic takes a personal access token as the password, never the account's "
                               "password: create one at POST /api/v1/users/me/tokens.")
    claims = decode_token(settings=settings.auth, token=credential)
    sessions.check(db=db, cache=cache, settings=settings.auth, claims=claims)
    # A device token works only while its device is not revoked, on every endpoint.
    devices.check(db=db, cache=cache, settings=settings, claims=claims)
    request.state.user_id = claims.user_id  # whose write a commit of this request is (read-your-writes)
    return claims


Claims = Annotated[TokenClaims, Depends(get_token_claims)]


async def require_sign_in_token(claims: Claims) -> TokenClaims:
    """A sign-in (or device) token, not a personal access token: what mints credentials (tokens, device
    tokens, a new password) or ends a session needs the person, not a credential stored in a GIS client."""
    if claims.pat_id is not None:
        raise PermissionDenied("A personal access token cannot do this: sign in with your password "
                               "(POST /api/v1/auth/token) and use that token.")
    return claims


SignedInClaims = Annotated[TokenClaims, Depends(require_sign_in_token)]


async def get_device_id(claims: Claims) -> int:
    """The device of a device token (sync endpoints); a person's sign-in token is refused."""
    if claims.device_id is None:
        raise PermissionDenied("Sync needs a device token: register this device (POST /api/v1/devices) "
                               "and send the token it returns.")
    return claims.device_id


CurrentDevice = Annotated[int, Depends(get_device_id)]


async def get_actor(claims: Claims) -> Actor:
    try:
        role = Role(claims.role)
    except ValueError as exc:
        raise NotAuthenticated("The access token is not valid.") from exc
    return Actor(user_id=claims.user_id, username=claims.username, role=role)


CurrentActor = Annotated[Actor, Depends(get_actor)]

# Declared here, after CurrentActor: the read session knows whose writes it must show.
ReadSession = Annotated[Session, Depends(get_read_db, scope="function")]


def require(permission: Permission):
    """Dependency factory: the caller must hold `permission`; returns the acting user."""

    async def _check(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if not has_permission(actor.role, permission):
            raise PermissionDenied(f"Role {actor.role} may not do this (needs {permission}).")
        return actor

    _check.__name__ = "require_" + permission.code.replace(":", "_")
    return _check


async def public() -> None:
    """Marks an endpoint as deliberately open to anyone (health checks, sign-in)."""


async def crs_param(crs: Annotated[str | None, Query(description="EPSG code of input coordinates, e.g. EPSG:4490")]
                    = None) -> int:
    return parse_crs(crs)


InputCrs = Annotated[int, Depends(crs_param)]


def parse_bbox(settings: Settings, bbox: str | None, bbox_crs: str | None) -> BBoxFilter | None:
    """`minx,miny,maxx,maxy` in `bbox_crs` (default EPSG:4326) -> a checked WGS84 box, or None."""
    if bbox is None:
        return None
    try:
        values = [float(v) for v in bbox.split(",")]
    except ValueError as exc:
        raise InvalidInput("bbox must be four numbers: minx,miny,maxx,maxy.",
                           errors=[{"field": "bbox", "message": "not numbers"}]) from exc
    if len(values) != 4:
        raise InvalidInput("bbox must be four numbers: minx,miny,maxx,maxy.",
                           errors=[{"field": "bbox", "message": "need 4 values"}])
    epsg = parse_crs(bbox_crs)
    transformer = to_storage(epsg)
    if transformer is not None:
        values = list(transformer.transform_bounds(values[0], values[1], values[2], values[3]))
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InvalidInput("bbox is out of range or inverted (need minx < maxx and miny < maxy within ±180/±90).",
                           errors=[{"field": "bbox", "message": "out of range"}])
    limit = settings.api.max_bbox_degrees
    if max_lon - min_lon > limit or max_lat - min_lat > limit:
        raise InvalidInput(f"bbox is larger than {limit} degrees on a side; zoom in or page without bbox.",
                           errors=[{"field": "bbox", "message": "too large"}])
    return BBoxFilter(min_lon, min_lat, max_lon, max_lat)




@dataclass(frozen=True)
class PageRequest:
    limit: int
    after_id: int | None


def encode_cursor(*position: int, kind: str = "id") -> str:
    """An opaque cursor for keyset paging: the sort key of the last row returned."""
    text = ":".join([kind, *(str(p) for p in position)])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def next_cursor(last_id: int | None, *, returned: int, limit: int) -> str | None:
    """The cursor of the page after one ending at `last_id`; None when the page was not full
    (there is nothing more), so a client follows cursors until there is none."""
    return encode_cursor(last_id) if last_id is not None and returned == limit else None


def decode_cursor(cursor: str, *, kind: str = "id", parts: int = 1) -> tuple[int, ...]:
    """The position an `encode_cursor` cursor of `kind` holds; a tampered or foreign cursor is 422."""
    try:
        prefix, *values = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
        if prefix != kind or len(values) != parts or not all(v.isascii() and v.lstrip("-").isdigit() for v in values):
            raise ValueError(prefix)
        position = tuple(int(v) for v in values)
        if not all(INT64_MIN <= p <= INT64_MAX for p in position):
            raise ValueError(values)  # beyond any bigint key: no row sits there, and the database cannot compare
        return position
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not valid; use the `next` link of the previous page.",
                           errors=[{"field": "cursor", "message": "invalid"}]) from exc


def page_param(
    settings: AppSettings,
    limit: Annotated[DbInt | None, Query(ge=1, description="Page size")] = None,
    cursor: Annotated[str | None, Query(description="Opaque cursor from the previous page's `next` link")] = None,
) -> PageRequest:
    size = limit or settings.api.default_page_size
    if size > settings.api.max_page_size:
        raise InvalidInput(f"limit may be at most {settings.api.max_page_size}.",
                           errors=[{"field": "limit", "message": f"max {settings.api.max_page_size}"}])
    return PageRequest(limit=size, after_id=decode_cursor(cursor)[0] if cursor else None)


Page = Annotated[PageRequest, Depends(page_param)]


async def if_match_version(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int:
    """The version a write is based on, from `If-Match: "3"` (or W/"3"). Required for every change."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the version (ETag) you last read; it guards against "
                                   "overwriting someone else's change.")
    value = if_match.strip()
    value = value.removeprefix("W/")
    value = value.strip('"')
    if not value.isdigit():
        raise InvalidInput("If-Match must be the ETag of the record, e.g. \"3\".",
                           errors=[{"field": "If-Match", "message": "not a version"}])
    return int(value)


ExpectedVersion = Annotated[int, Depends(if_match_version)]

# A client-chosen key that makes a submission safe to retry: the same key from the same user
# returns the first result instead of storing a duplicate (mobile clients on poor networks).
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=100)]
