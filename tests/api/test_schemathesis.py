"""Property-based probing of the whole published contract with schemathesis (issue 7 §3 and §6).

Every operation of the OpenAPI document with valid and invalid generated input as an administrator,
with valid input as a dispatcher, and the stateful phase (chains of linked calls), all with every
schemathesis check. Whatever a client sends, the server must not answer 5xx (the assertion); the
other checks' findings (schema-valid input the service refuses for reasons the schema cannot say,
such as an unknown activity) are reported as warnings. Bounded in examples and derandomized, so CI
is reproducible; a few minutes on a loaded machine.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import redis
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import ignored_auth
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.permissions import Role
from tests.conftest import ensure_role_users, forget_sessions_and_throttles, truncate_data

Auth = Callable[[Role], dict[str, str]]
MAX_EXAMPLES = 3  # per operation and kind of input: ~70 operations x (valid + invalid) x roles
STATEFUL_RUNS = 15  # scenarios, each of up to STATEFUL_STEPS linked calls
STATEFUL_STEPS = 6

PROBE = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                 phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=list(HealthCheck))


def _record(defects: list[str], case: Any, response: Any) -> None:
    """A server error, or what schemathesis's other checks found in the answer: one line each."""
    if response.status_code >= 500:
        defects.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")
        return
    try:
        case.validate_response(response, excluded_checks=[ignored_auth])
    except (AssertionError, BaseExceptionGroup) as failure:  # schemathesis's failed checks
        defects.append(f"{case.method} {case.formatted_path}: {str(failure)[:400]}")


def _probe_all(app: FastAPI, headers: Callable[[], dict[str, str]], modes: tuple[GenerationMode, ...]) -> list[str]:
    """Every operation, with input of the given kinds: the defects found, one line each. Each call
    signs in afresh (`headers()`): a probe of sign-out revokes the token it was sent with."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    defects: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the published document itself is invalid
        operation = result.ok()
        for mode in modes:

            @PROBE
            @given(case=operation.as_strategy(generation_mode=mode))
            def probe(case: Any) -> None:
                _record(defects, case, case.call(headers=headers()))

            try:
                probe()
            except Unsatisfiable:
                continue  # no invalid input exists for this operation (e.g. it takes no parameters)
    return defects


def _probe_stateful(app: FastAPI, headers: Callable[[], dict[str, str]], reset: Callable[[], None]) -> list[str]:
    """The stateful phase: chains of calls along the links schemathesis infers (create, read, change,
    delete the same record), so ids and versions the API itself handed out are fed back to it.

    Every scenario starts from the same state (`reset`): which links can be followed depends on what
    the server answered, and hypothesis requires the same choices to lead to the same draws."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    defects: list[str] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            reset()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers()}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            _record(defects, case, response)

    Workflow.run(settings=settings(max_examples=STATEFUL_RUNS, stateful_step_count=STATEFUL_STEPS,
                                   derandomize=True, deadline=None, database=None,
                                   suppress_health_check=list(HealthCheck)))
    return defects


def _assert_no_server_error(defects: list[str]) -> None:
    """5xx fails the test. Other checks' findings (contract drift, not crashes) are reported as warnings."""
    server_errors = [d for d in defects if "-> 5" in d]
    for finding in defects:
        if finding not in server_errors:
            warnings.warn(f"schemathesis: {finding}", stacklevel=2)
    assert server_errors == []


def test_no_operation_answers_a_server_error_to_an_administrator(app: FastAPI, auth: Auth,
                                                                 celery_worker: Any) -> None:
    _assert_no_server_error(_probe_all(app, lambda: auth(Role.admin), (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))


def test_no_sequence_of_calls_answers_a_server_error(app: FastAPI, auth: Auth, celery_worker: Any,
                                                     owner_engine: Engine, session_factory: sessionmaker[Session],
                                                     redis_client: redis.Redis) -> None:
    def reset() -> None:
        truncate_data(owner_engine)
        with owner_engine.begin() as conn:  # users a scenario created; the role users are restored below
            conn.execute(text("DELETE FROM users WHERE username NOT LIKE 'test-%'"))
        ensure_role_users(session_factory)
        forget_sessions_and_throttles(redis_client)

    _assert_no_server_error(_probe_stateful(app, lambda: auth(Role.admin), reset))


def test_no_operation_answers_a_server_error_to_a_dispatcher(app: FastAPI, auth: Auth, celery_worker: Any) -> None:
    """Valid input only: what differs by role is what gets past authorisation, not how input is parsed."""
    _assert_no_server_error(_probe_all(app, lambda: auth(Role.dispatcher), (GenerationMode.POSITIVE,)))
