"""schemathesis against Rapport's own OpenAPI document: no 5xx, and every response keeps to
the documented schema. In-process ASGI, a bounded number of examples, a fixed seed."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import Settings
from app.llm.scripted import ScriptedModel
from app.main import create_app
from tests.api.support import MAYA, SAMUEL

EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Operations whose generated inputs only exercise the same validation over and over; they
# are fuzzed with fewer examples to keep the run short.
FEWER = {"POST /login", "POST /logout"}


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from app.config import PROJECT_ROOT

    folder = tmp_path_factory.mktemp("fuzz")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm="scripted",
        judge_model="off",
        database_url=f"sqlite:///{folder}/fuzz.db",
        personas_dir=PROJECT_ROOT / "personas",
        rubrics_dir=PROJECT_ROOT / "rubrics",
        api_keys="",
        secret_key=None,
        max_turn_chars=400,
    )


@pytest.fixture(scope="module")
def fuzz_app(fuzz_settings: Settings) -> Iterator[FastAPI]:
    from app.store.db import make_engine
    from app.store.migrations import upgrade

    engine = make_engine(fuzz_settings.database_url)
    upgrade(engine)
    engine.dispose()
    yield create_app(fuzz_settings, llm=ScriptedModel(token_delay=0))


def cases(
    operation: schemathesis.APIOperation, interview_ids: list[str]
) -> st.SearchStrategy[schemathesis.Case]:
    """Generated cases; for routes that name an interview, half of them name a real one, so
    the fuzzing reaches past the 404."""
    generated = operation.as_strategy()
    if "{interview_id}" not in operation.path:
        return generated

    def real(pair: tuple[schemathesis.Case, str]) -> schemathesis.Case:
        case, iid = pair
        case.path_parameters = {**(case.path_parameters or {}), "interview_id": iid}
        return case

    return st.one_of(generated, st.tuples(generated, st.sampled_from(interview_ids)).map(real))


def operations(app: FastAPI) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_fuzzed(fuzz_app: FastAPI) -> None:
    labels = {f"{op.method.upper()} {op.path}" for op in operations(fuzz_app)}
    assert {"POST /api/interviews", "POST /api/interviews/{interview_id}/turns",
            "POST /v1/chat/completions", "POST /api/grade"} <= labels


@pytest.mark.timeout(300)
def test_no_server_errors_and_responses_match_the_schema(fuzz_app: FastAPI) -> None:
    failures: list[str] = []
    with TestClient(fuzz_app) as http:
        interview_ids = [
            http.post("/api/interviews", json={"persona_id": persona}).json()["id"]
            for persona in (MAYA, SAMUEL, MAYA)
        ]
    for operation in operations(fuzz_app):
        label = f"{operation.method.upper()} {operation.path}"
        examples = 8 if label in FEWER else EXAMPLES

        @seed(20261125)
        @hypothesis_settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases(operation, interview_ids))
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call()
            case.validate_response(response, checks=CHECKS)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                fuzz()
        except Exception as failure:  # collect every operation's failure, then report them all
            failures.append(f"{label}: {failure}"[:3000])
    assert not failures, "\n\n".join(failures)
