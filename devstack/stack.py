"""`./gw setup`: the local services of this checkout up, secured and provisioned, and `.gw/env` written.

Idempotent and fast the second time: a running service whose settings are current is left alone; one
started with older settings or other secrets is restarted.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from devstack import app, environment, frontend, postgres, redis, seaweed, secrets
from devstack.console import say
from devstack.environment import Overrides
from devstack.layout import Layout
from devstack.ports import Ports


@dataclass
class Stack:
    """One checkout's state as read at the start of a command."""

    layout: Layout
    overrides: Overrides
    ports: Ports
    secrets: dict[str, str]

    @classmethod
    def open(cls, layout: Layout, environ: Mapping[str, str]) -> Stack:
        layout.prepare()
        values, generated = secrets.load(layout.secrets_file)
        if generated:
            say("secrets", f"generated {' '.join(generated)} (.gw/secrets.env)")
        return cls(layout, Overrides.capture(environ), Ports.load(layout.ports_file), values)

    def environment(self) -> dict[str, str]:
        """The GW_* variables, also written to .gw/env."""
        env = environment.compose(self.overrides, self.ports, self.secrets)
        environment.write(self.layout.env_file, env)
        return env


def setup(layout: Layout, environ: Mapping[str, str], *, migrate_demo: bool) -> dict[str, str]:
    """Start what is local, write .gw/env, migrate the demo database if asked; the environment for the
    application's processes (`environ` with the GW_* variables)."""
    started = time.monotonic()
    stack = Stack.open(layout, environ)
    if stack.overrides.external_database:
        say("postgres", "external (GW_DATABASE_URL is set), not starting a local server")
    else:
        postgres.ensure(layout, stack.ports, stack.secrets)
    if stack.overrides.external_redis:
        say("redis", "external (GW_REDIS_URL is set), not starting a local server")
    else:
        redis.ensure(layout, stack.ports, stack.secrets["REDIS_PASSWORD"])
    if stack.overrides.external_s3:
        say("s3", "external (GW_S3_ENDPOINT is set), not starting a local server")
    else:
        seaweed.ensure(layout, stack.ports, stack.secrets)
    env = {**environ, **stack.environment()}
    frontend.ensure(layout)
    if migrate_demo:
        app.migrate(layout, env, database="demo")
    say("setup", f"done in {time.monotonic() - started:.1f}s")
    return env
