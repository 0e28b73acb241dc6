"""The OpenAPI document tells the truth: schemathesis generates requests from it, valid and
invalid, for every operation, sends them to the real app (in process, on the embedded chain
with a SQLite file store, the development keys) and checks every answer against it.

Checks: all fourteen built-in ones judge every answer (not_a_server_error,
status_code_conformance, content_type_conformance, response_headers_conformance,
response_schema_conformance, negative_data_rejection, positive_data_acceptance,
missing_required_header, unsupported_method, allow_header_conformance, ignored_auth,
use_after_free, ensure_resource_availability, object_level_authorization). The last three
judge sequences of operations tied by links, or a second identity's access to the first's
objects, which this document does not declare: here they pass every answer.

positive_data_acceptance also takes 422 here: a request may match the document and still be
refused for what it says (a rule R1-R8, an address whose EIP-55 checksum fails, a bundle whose
record does not decode), and this API answers that with 422 naming the reason.

The budget is bounded and deterministic: a fixed seed, derandomized generation, no example
database, and MAX_EXAMPLES fuzzed cases per operation on top of the explicit examples and the
coverage phase. Each operation runs twice: with a platform's key and with a regulator's (the
regulator's routes, and every read with another role's reach).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from api.budget import VerifyBudget
from api.main import create_app
from ledger.config import DEV_PLATFORM_API_KEY, DEV_REGULATOR_API_KEY, Settings

# Fuzzed cases per operation and key; with the explicit and coverage cases, about 4,100 cases in
# all, which take under a minute of CPU (a minute and a half on the busy two-core machine).
MAX_EXAMPLES = 25
SEED = 20_240_601

_STORE = tempfile.TemporaryDirectory(prefix="bindledger-schemathesis-")
# Not served by uvicorn: schemathesis calls the ASGI app in this process, starting its
# lifespan (which opens the ledger on the embedded chain and the SQLite file) on first use.
# The budget is generous: callers without a key are tested in test_verify_budget_api.py.
APP = create_app(
    Settings(chain="embedded", database=str(Path(_STORE.name) / "ledger.sqlite3")),
    run_worker=False,
    budget=VerifyBudget(rate=1e6, burst=10**9, max_timeline_entries=500),
)
CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    "generation": {"deterministic": True, "database": "none", "max-examples": MAX_EXAMPLES},
    "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "401", "403", "404", "409", "410", "422"]}},
})
schema = schemathesis.openapi.from_dict(APP.openapi(), config=CONFIG)
schema.app = APP

CASES: Counter[str] = Counter()  # per operation
CHECKED: Counter[str] = Counter()  # per check: how many answers it judged

# Every built-in check of schemathesis.
ALL_CHECKS = {
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
    "positive_data_acceptance", "missing_required_header", "unsupported_method",
    "allow_header_conformance", "ignored_auth", "use_after_free",
    "ensure_resource_availability", "object_level_authorization",
}


@schema.hook
def after_validate(context: Any, case: schemathesis.Case, response: Any,
                   results: list[Any]) -> None:
    CHECKED.update(result.name for result in results)


@pytest.mark.parametrize("api_key", [DEV_PLATFORM_API_KEY, DEV_REGULATOR_API_KEY],
                         ids=["platform", "regulator"])
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_document(case: schemathesis.Case, api_key: str) -> None:
    CASES[case.operation.label] += 1
    case.call_and_validate(headers={"X-API-Key": api_key})


def test_every_operation_was_exercised_by_every_check(request: pytest.FixtureRequest) -> None:
    """Runs after the test above (same module, later) when all of it ran: every documented
    operation got cases, and every check judged answers."""
    operations = {f"{method.upper()} {path}" for path, item in APP.openapi()["paths"].items()
                  for method in item}
    ran = [item for item in request.session.items
           if item.name.startswith("test_every_answer_matches_the_document[")]
    if not ran:
        pytest.skip("counts the cases of test_every_answer_matches_the_document: run it too")
    # Two keys (platform, regulator) for every operation: a missing case is a failure, not a skip.
    assert len(ran) >= 2 * len(operations), (len(ran), 2 * len(operations))
    print(f"schemathesis: {sum(CASES.values())} cases over {len(CASES)} operations; "
          f"answers judged by each check: {dict(sorted(CHECKED.items()))}")
    assert operations <= set(CASES), sorted(operations - set(CASES))
    assert set(CHECKED) == ALL_CHECKS, sorted(ALL_CHECKS ^ set(CHECKED))
