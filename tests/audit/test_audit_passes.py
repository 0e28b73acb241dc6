"""An audit of an honest log passes, and says what it checked."""

from __future__ import annotations

from pathlib import Path

from tests.audit.conftest import audit
from tests.support.audit_log import ServedLog


def test_an_audit_of_the_whole_log_verifies(log: ServedLog, mirror_copy: Path) -> None:
    report = audit(log, mirror_copy, contract=log.ledger.contract.address)
    doc = report.to_json()
    assert report.verified, doc
    assert doc["auditedSize"] == log.ledger.merkle_log(log.platform).size == 606
    assert doc["heads"]["checked"] == doc["heads"]["onChain"] == 4
    assert doc["records"] == {"checked": 606, "refusalsReplayed": 1}
    assert doc["subjects"]["headsOnChain"] == 1  # the loan story's borrower
    assert doc["tiles"]["fetched"] == 0  # all mirrored already
