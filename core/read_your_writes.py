"""Read-your-writes with a read replica (issue 14): where a user's last write is, in the WAL.

After a user's write commits, the primary's WAL position is kept in Redis under the user; that
user's reads go to the replica only once it has replayed that far, else to the primary
(`api.dependencies.get_read_db`). Two writers record positions:
- the API, after every write request of a signed-in user (`api.dependencies.get_db`);
- a background job that writes for a user, when it finishes: an import job records the position for
  the user who queued it (`gis.imports.runner`), so the lines they uploaded are on their map at once.

The position is per user, not per device: a user who writes on the phone sees it on the laptop too.
"""

from __future__ import annotations

import redis

from core.settings import Settings

WRITTEN_KEY = "gw:written:{user_id}"
# Keep the larger position: two writes of one user finishing out of order must not move it back.
_KEEP_LATEST = """
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > old then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
"""


def remember_write(client: redis.Redis, *, user_id: int, position: int, keep_s: int) -> None:
    """`user_id`'s reads must see WAL `position` for the next `keep_s` seconds (raises RedisError)."""
    client.eval(_KEEP_LATEST, 1, WRITTEN_KEY.format(user_id=user_id), position, keep_s)


def position_to_wait_for(client: redis.Redis, *, user_id: int) -> int:
    """The WAL position this user's reads must see; 0 without a recent write (raises RedisError)."""
    value = client.get(WRITTEN_KEY.format(user_id=user_id))
    return int(value) if value is not None else 0


def positions_client(settings: Settings) -> redis.Redis:
    """A Redis client for the positions outside the API (a worker, a command), with the API's short
    timeouts: a hung Redis delays the end of a job by seconds, never holds it."""
    return redis.Redis.from_url(settings.redis.url.get_secret_value(), socket_connect_timeout=settings.auth.redis_timeout_s,
                                socket_timeout=settings.auth.redis_timeout_s)
