"""The `./gw` commands. Unknown commands go to the application's CLI after the set-up."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from devstack import app, environment, postgres, redis, scale, seaweed, secrets
from devstack.console import GwError, ok, say, set_quiet, warn
from devstack.environment import Overrides
from devstack.layout import Layout, write_private
from devstack.ports import LOOPBACK, Ports
from devstack.stack import Stack, setup

ROOT = Path(__file__).resolve().parent.parent
BENCH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
USAGE_ERROR = 2
HELP = """GridWarden developer tool

usage: ./gw <command> [args]

  run                  set up, migrate, create buckets, load demo data, start a
                       Celery worker in the background and serve the API on
                       http://127.0.0.1:${GW_PORT:-8000} (docs at /docs)
  scale [--api N]      as run, for a province on one machine: N API processes
                       (default 3) behind HAProxy, a read replica, SeaweedFS with three
                       volume servers and replication, a worker per kind of job
  test [pytest args]   set up, then run ruff, mypy and pytest against the *_test
                       database (the suite migrates it), Redis db 1 and gw-test-* buckets
  bench NAME [args]    set up, migrate the *_bench database, run python -m bench.NAME
  user ...             manage users, e.g. ./gw user create alice --role inspector
  import ...           import data, e.g. ./gw import simbench --subnet MV1.101
  <other> ...          any other command is passed to the application CLI (after set-up)
  setup                install/start everything and migrate
  rotate-signing-key   new API token signing key; the previous one keeps verifying
                       (rotate at most once per token lifetime; restart the API)
  compose-env          write .env with random secrets for docker compose (once)
  status               show local services and their ports
  stop                 stop the services started from this checkout
  help                 this text

State lives in .gw/ (ports in .gw/ports.env, logs in .gw/log/, environment in
.gw/env, this installation's generated credentials in .gw/secrets.env). Set
GW_DATABASE_URL, GW_REDIS_URL or GW_S3_ENDPOINT to use external services instead
of local ones (see devstack/environment.py).
"""


def _exec(command: Sequence[str], env: Mapping[str, str]) -> None:
    """Become `command` (the user's Ctrl-C and exit code are then its own)."""
    sys.stdout.flush()
    os.execve(command[0], list(command), dict(env))


def cmd_setup(layout: Layout, args: list[str]) -> None:
    setup(layout, os.environ, migrate_demo=True)


def cmd_run(layout: Layout, args: list[str]) -> None:
    env = setup(layout, os.environ, migrate_demo=True)
    app.prepare_demo(layout, env, secrets.read(layout.secrets_file)["DEMO_PASSWORD"])
    app.start_worker(layout, env, hashlib.sha256(layout.env_file.read_bytes()).hexdigest())
    port = app.api_port(os.environ)
    ok("api", f"serving on http://127.0.0.1:{port}  —  API docs: http://127.0.0.1:{port}/docs  (Ctrl-C to stop; "
              "./gw stop stops the services)")
    _exec(app.serve_command(layout, port), env)


def cmd_test(layout: Layout, args: list[str]) -> None:
    """The suite migrates its own database (tests/conftest.py); the demo database is not touched."""
    env = environment.for_tests(setup(layout, os.environ, migrate_demo=False))
    # Static checks first: they take seconds and a reviewer expects both clean (settings in pyproject.toml).
    say("check", "ruff check . && mypy")
    for command, tool in (([str(layout.bin("ruff")), "check", "--quiet", "."], "ruff"),
                          ([str(layout.bin("mypy")), "--no-error-summary"], "mypy")):
        if subprocess.run(command, cwd=layout.root, env=env, check=False).returncode != 0:
            raise GwError(f"{tool} found problems (see above)")
    say("test", f"python -m pytest {' '.join(args)}")
    _exec([str(layout.bin("python")), "-m", "pytest", *args], env)


def cmd_bench(layout: Layout, args: list[str]) -> None:
    if not args:
        raise GwError("usage: ./gw bench NAME [args]   (NAME is a module in bench/)")
    name, rest = args[0], args[1:]
    if not BENCH_NAME.fullmatch(name):
        raise GwError(f"bad bench name: {name}")
    env = environment.for_bench(setup(layout, os.environ, migrate_demo=False))
    app.migrate(layout, env, database="bench")
    app.cli(layout, env, "storage-init")
    _exec([str(layout.bin("python")), "-m", f"bench.{name}", *rest], env)


def cmd_stop(layout: Layout, args: list[str]) -> None:
    layout.prepare()
    scale.stop(layout)
    app.stop_worker(layout)
    seaweed.stop_server(layout, Ports.load(layout.ports_file))
    redis.stop_server(layout)
    postgres.stop(layout)


def cmd_status(layout: Layout, args: list[str]) -> None:
    layout.prepare()
    overrides, ports = Overrides.capture(os.environ), Ports.load(layout.ports_file)

    def stopped(port: int | None) -> str:
        return "stopped" if port is None else f"stopped (port {port})"

    if overrides.external_database:
        say("postgres", "external (GW_DATABASE_URL)")
    elif postgres.running(layout):
        ok("postgres", f"running on {LOOPBACK}:{postgres.live_port(layout)} (pid {postgres.live_pid(layout)})")
    else:
        say("postgres", stopped(ports.pg))
    redis_pid = redis.pid(layout)
    if overrides.external_redis:
        say("redis", "external (GW_REDIS_URL)")
    elif redis_pid is not None:
        ok("redis", f"running on {LOOPBACK}:{ports.redis} (pid {redis_pid})")
    else:
        say("redis", stopped(ports.redis))
    weed = seaweed.describe(layout, ports)
    if overrides.external_s3:
        say("s3", "external (GW_S3_ENDPOINT)")
    elif weed is not None:
        ok("s3", weed)
    else:
        say("s3", stopped(ports.s3))
    worker = app.worker_pid(layout)
    if worker is not None:
        ok("celery", f"worker running (pid {worker})")
    else:
        say("celery", "not running")
    say("venv", ".venv ready" if (layout.venv / ".requirements.sha").is_file() else "not set up")
    say("env", ".gw/env" if layout.env_file.is_file() else "not written yet (run ./gw setup)")


def cmd_rotate_signing_key(layout: Layout, args: list[str]) -> None:
    """Prepend a new token signing key and keep only the previous one. The API signs with the first key
    and accepts every listed one, so tokens signed before the rotation stay valid until they expire; a
    second rotation within one token lifetime drops the key that signed still-valid tokens."""
    stack = Stack.open(layout, os.environ)
    previous = stack.secrets["AUTH_SIGNING_KEYS"].split(",")[0].partition(":")[0]
    stack.secrets["AUTH_SIGNING_KEYS"] = secrets.rotate_signing_keys(stack.secrets["AUTH_SIGNING_KEYS"])
    secrets.save(layout.secrets_file, stack.secrets)
    new = stack.secrets["AUTH_SIGNING_KEYS"].partition(":")[0]
    ok("auth", f"new signing key {new}; {previous} still verifies tokens it signed (.gw/secrets.env)")
    if "GW_AUTH_SIGNING_KEYS" in stack.overrides.given:
        warn("auth", "GW_AUTH_SIGNING_KEYS is set in your environment and wins over .gw/secrets.env")
    stack.environment()
    say("auth", "restart the API (./gw run) to sign with it; rotate at most once per token lifetime "
                "(GW_AUTH_TOKEN_MINUTES)")


def cmd_compose_env(layout: Layout, args: list[str]) -> None:
    """Secrets for docker-compose.yml, in .env beside it. Never overwritten: the database passwords are
    fixed when the db volume is first initialised."""
    target = layout.root / ".env"
    if target.exists():
        raise GwError(".env exists; it is not overwritten (the db volume was initialised with its passwords)")
    write_private(target, secrets.compose_env())
    ok("compose", "wrote .env (mode 0600) for docker compose")


def cmd_help(layout: Layout, args: list[str]) -> None:
    print(HELP, end="")


def cmd_app(layout: Layout, args: list[str]) -> None:
    """Any other command: the application CLI on the demo database, after a quiet set-up."""
    set_quiet(True)
    env = setup(layout, os.environ, migrate_demo=True)
    _exec(app.cli_command(layout, *args), env)


COMMANDS: dict[str, Callable[[Layout, list[str]], None]] = {
    "setup": cmd_setup, "run": cmd_run, "scale": scale.cmd_scale, "test": cmd_test, "bench": cmd_bench, "stop": cmd_stop,
    "status": cmd_status, "rotate-signing-key": cmd_rotate_signing_key, "compose-env": cmd_compose_env,
    "help": cmd_help, "-h": cmd_help, "--help": cmd_help,
}


def main(argv: list[str], root: Path = ROOT) -> int:
    command = argv[0] if argv else "help"
    args = argv[1:]
    layout = Layout(root)
    os.chdir(root)  # the application's modules are imported from the checkout
    if command.startswith("-") and command not in COMMANDS:
        print(HELP, end="", file=sys.stderr)
        return USAGE_ERROR
    try:
        if command in COMMANDS:
            COMMANDS[command](layout, args)
        else:
            cmd_app(layout, [command, *args])
    except GwError as exc:
        print(f"gw: error: {exc}", file=sys.stderr)
        return 1
    return 0
