"""GridWarden's own processes as `./gw` runs them: the CLI, the Celery worker and the API server.

The entry points are named once here (the CLI and the worker are in the `gridwarden` package, the composition root).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from devstack.console import GwError, fail, ok, say, warn
from devstack.layout import Layout
from devstack.ports import next_free, port_free
from devstack.processes import pid_alive, run_logged, stop, wait_until

APP_CLI_MODULE = "gridwarden.cli"  # python -m APP_CLI_MODULE: migrate, storage-init, seed-demo, user, import...
WORKER_APP = "gridwarden.worker:celery_app"  # celery -A WORKER_APP
API_FACTORY = "api.app:create_app_from_env"  # uvicorn --factory API_FACTORY
DEFAULT_API_PORT = 8000
WORKER_CONCURRENCY = 2
WORKER_START_TIMEOUT_S = 30  # slow under load
WORKER_STOP_TIMEOUT_S = 20


def cli_command(layout: Layout, *args: str) -> list[str]:
    return [str(layout.bin("python")), "-m", APP_CLI_MODULE, *args]


def cli(layout: Layout, env: Mapping[str, str], *args: str) -> None:
    """Run an application CLI command in the foreground (its output is the user's to see)."""
    done = subprocess.run(cli_command(layout, *args), env=dict(env), stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise GwError(f"{args[0]} failed")


def migrate(layout: Layout, env: Mapping[str, str], *, database: str) -> None:
    """Migrate the database `env` points at to the newest schema (log in .gw/log/migrate.log)."""
    run_logged(cli_command(layout, "migrate"), log=layout.log / "migrate.log", env=dict(env),
               what=f"migrating the {database} database (python -m {APP_CLI_MODULE} migrate)")
    ok("migrate", f"{database} database schema up to date")


def prepare_demo(layout: Layout, env: Mapping[str, str], demo_password: str) -> None:
    """The buckets, the demo users and the demo network, as `./gw run` and `./gw scale` serve them."""
    cli(layout, env, "storage-init")
    cli(layout, {**env, "GW_DEMO_PASSWORD": demo_password}, "seed-demo")


def worker_pid(layout: Layout) -> int | None:
    return pid_alive(layout.run / "celery.pid", "celery")


def stop_worker(layout: Layout) -> None:
    stop(layout.run / "celery.pid", "celery", "celery", timeout_s=WORKER_STOP_TIMEOUT_S)


def start_worker(layout: Layout, env: Mapping[str, str], env_sha: str) -> None:
    """A Celery worker (with beat) in the background. One started with another environment (other
    credentials, a changed secret) cannot reach Redis or the database any more: it is restarted."""
    recorded = layout.run / "celery.env.sha"
    if worker_pid(layout) is not None and (not recorded.is_file() or recorded.read_text().strip() != env_sha):
        say("celery", "restarting the worker: the environment (.gw/env) changed")
        stop_worker(layout)
    running = worker_pid(layout)
    if running is not None:
        ok("celery", f"worker already running (pid {running}; ./gw stop to restart it)")
        return
    (layout.run / "celery.pid").unlink(missing_ok=True)
    recorded.write_text(env_sha + "\n", encoding="utf-8")
    log = layout.log / "celery.log"
    pythonpath = os.pathsep.join(filter(None, [str(layout.root), env.get("PYTHONPATH")]))
    started = subprocess.run(
        [str(layout.bin("celery")), "--workdir", str(layout.root), "-A", WORKER_APP, "worker", "--beat",
         f"--schedule={layout.run / 'celerybeat-schedule'}", "--loglevel=INFO", f"--concurrency={WORKER_CONCURRENCY}",
         f"--pidfile={layout.run / 'celery.pid'}", f"--logfile={log}", "--detach"],
        env={**env, "PYTHONPATH": pythonpath}, stdin=subprocess.DEVNULL, check=False)
    if started.returncode != 0:
        raise fail("celery worker failed to start", log=log)
    if not wait_until(lambda: worker_pid(layout) is not None, seconds=WORKER_START_TIMEOUT_S, interval=0.2):
        raise fail("celery worker exited (see .gw/log/celery.log)", log=log)
    ok("celery", f"worker started (pid {worker_pid(layout)}, log .gw/log/celery.log)")


def api_port(environ: Mapping[str, str]) -> int:
    """GW_PORT if set, else 8000 or the next free port after it."""
    if environ.get("GW_PORT"):
        return int(environ["GW_PORT"])
    if port_free(DEFAULT_API_PORT):
        return DEFAULT_API_PORT
    port = next_free(DEFAULT_API_PORT + 1)
    warn("api", f"port {DEFAULT_API_PORT} is taken, using {port} (set GW_PORT to choose)")
    return port


def serve_command(layout: Layout, port: int) -> Sequence[str]:
    return [str(layout.bin("uvicorn")), "--factory", API_FACTORY, "--host", "127.0.0.1", "--port", str(port)]
