"""The REST API keeps its OpenAPI contract under fuzzing (schemathesis).

Every operation of ``/api/v1/openapi.json`` gets generated requests, valid ones and
invalid ones, sent with a valid API key to a real server on loopback; any server error,
undocumented status code or content type, or a body that breaks the declared schema,
fails the test. The example count is bounded so the whole run stays near a minute.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS
from schemathesis.generation import GenerationMode

from tests.support.artwork import plain_image
from tests.support.db_helpers import add_binding, use_up_session_quota
from tests.support.stack import Stack
from wxqr.service.scan_sessions import NewScanSession
from wxqr.service.webhooks import AddressPolicy

EXAMPLES_PER_MODE = 25
_CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def _checks() -> list[Any]:
    schemathesis.checks.load_all_checks()
    return [CHECKS.get_one(name) for name in _CHECK_NAMES]


def _loopback(host: str, port: int) -> list[str]:
    """The fuzzer invents webhook host names: they all resolve to loopback, so no name is
    ever looked up outside this machine (and nothing is delivered: no worker runs)."""
    return ["127.0.0.1"]


def _seed(stack: Stack) -> dict[str, Any]:
    """Channels with codes (one archived), so ids 1.. answer 200 with real bodies, and a
    webhook endpoint with one delivery; returns the ids of objects that exist."""
    stack.ws.webhooks.policy = AddressPolicy(True, True, resolver=_loopback)
    with stack.client() as client:
        for name in ("Poster", "Shop", "Old"):
            created = client.post("/api/v1/channels", json={"name": name, "code": {}})
            assert created.status_code == 201, created.text
        archived = client.delete(f"/api/v1/channels/{created.json()['id']}")
        assert archived.status_code == 200
    endpoint = stack.ws.webhooks.create("http://hooks.test/in", ["scan"]).endpoint
    delivery = stack.ws.webhooks.send_test(endpoint.id)
    # A scan session (cancelled: its SSE streams end at once) and a binding; then the
    # account's sessions-per-minute quota stays used up, so the fuzzer's sessions are 429s
    # and no stream of a pending session is left open.
    session = stack.ws.scan_sessions.create(stack.account.id, NewScanSession("login")).session
    stack.ws.scan_sessions.cancel(session.id)
    binding_id = add_binding(stack.ws.engine, stack.account.id, "member-1", "o-fuzz")
    quota = stack.ws.settings.scan_sessions_per_minute
    use_up_session_quota(stack.ws.engine, stack.account.id, quota, for_seconds=3600)
    template = stack.ws.posters.add_template(  # posters:
        stack.account.id, "Fuzz", plain_image((600, 800)), {"code": {"x": 0, "y": 0, "size": 400}}
    )
    return {
        "session_id": session.id,
        "binding_id": binding_id,
        "channel_id": 1,
        "code_id": 1,
        "appid": stack.account.appid,
        "webhook_id": endpoint.id,
        "delivery_id": delivery.id,
        "template_id": template.id,  # posters:
    }


def test_every_operation_keeps_its_contract(stack: Stack) -> None:
    known_ids = _seed(stack)
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/api/v1/openapi.json")
    checks = _checks()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:
        cases = {
            "positive": operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            "negative": operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        }
        if operation.path_parameters:  # valid requests on objects that exist too
            fixed = {p.name: known_ids[p.name] for p in operation.path_parameters}
            cases["existing"] = operation.as_strategy(path_parameters=fixed)
        for mode, strategy in cases.items():

            @settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(
                    base_url=stack.base_url,
                    headers={"X-API-Key": stack.api_key},
                    checks=checks,
                    timeout=30,
                )

            try:
                run()
            except (
                Exception,
                BaseExceptionGroup,
            ) as exc:  # collect every operation's failure, then report all
                failures.append(f"{operation.label} [{mode}]: {exc}")
    assert not failures, "\n\n".join(failures)
