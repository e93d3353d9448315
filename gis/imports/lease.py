"""The lease of an import job: a PostgreSQL advisory lock held by the worker running it.

The lock lives on a connection of its own for as long as the import runs. When the worker dies
(SIGKILL, OOM, a lost machine) its connections close and PostgreSQL releases the lock at once, so
"status running, lease free" means exactly "the worker that ran this job is gone": the next
delivery of the job's message, or the relay, takes it over. A duplicate delivery while the lease is
held does nothing. No clock or heartbeat is involved, so a slow import is never taken for a dead one.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, TextClause, text
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

# First key of the two-int4 advisory lock form (pg_locks.classid); "GWIJ" in ASCII. The second key
# (pg_locks.objid) is the job id, folded into int4 (job ids beyond 2^31 would share a lease with
# another job far away in time, which only ever delays one of them).
LEASE_NAMESPACE = 0x4757494A
_INT4_MASK = 0x7FFFFFFF


def process_name() -> str:
    """host:pid of the process holding a lease (a worker's prefork child, or a command), as the job
    row names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _key(job_id: int) -> int:
    return job_id & _INT4_MASK


@contextmanager
def job_lease(engine: Engine, job_id: int) -> Iterator[bool]:
    """Try to take the job's lease; yields whether it was taken, and keeps it until the block ends."""
    with engine.connect() as conn:
        taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"),
                                  {"ns": LEASE_NAMESPACE, "key": _key(job_id)}).scalar_one())
        conn.commit()
        try:
            yield taken
        finally:
            if taken:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"),
                                 {"ns": LEASE_NAMESPACE, "key": _key(job_id)})
                    conn.commit()
                except DBAPIError:
                    # The connection is gone, and the lock with it; never pool a connection that may hold it.
                    logger.warning("could not release the lease of import job %s; discarding the connection", job_id)
                    conn.invalidate()


def lease_is_free() -> TextClause:
    """SQL condition on `import_jobs`: no live session holds this job's lease (pg_locks is
    readable by every role)."""
    return text("NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 2 "
                "AND l.classid = CAST(:lease_ns AS oid) AND l.objid::bigint = (import_jobs.id & :lease_mask))"
                ).bindparams(lease_ns=LEASE_NAMESPACE, lease_mask=_INT4_MASK)
