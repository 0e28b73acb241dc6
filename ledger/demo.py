"""`bindledger demo`: the whole path once, on a chain of your choice (embedded by default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table

from ledger.config import Settings
from ledger.core.bundle import ProofBundle
from ledger.drafts import RecordDraft, prepare
from ledger.runtime import open_ledger
from ledger.verify import verify_bundle

POLICY_HASH = "0x" + "ab" * 32
ONE_YEAR = 365 * 24 * 3600

# Made-up borrowers. Their raw identifiers never leave this process: records carry keyed
# references only, and the table below shows them masked.
BORROWERS = [
    ("110105199001011234", "138 0013 8000", "LOAN-0001"),
    ("310101198505052345", "+86 139 1234 5678", "LOAN-0002"),
    ("440301199212123456", "186-2000-3000", "LOAN-0003"),
]


def borrower_story(subject_id: str, phone: str, account: str, now: int) -> list[dict[str, Any]]:
    """A borrower's onboarding: phone verified twice, bound, lending consent given."""
    base = {"subjectId": subject_id}
    return [
        {**base, "type": "Verification", "method": "SMS_OTP", "passed": True, "phone": phone},
        {**base, "type": "Verification", "method": "LIVENESS", "passed": True, "phone": phone},
        {
            **base,
            "type": "Binding",
            "action": "BIND",
            "phone": phone,
            "accountId": account,
            "factors": ["SMS_OTP", "LIVENESS"],
        },
        {
            **base,
            "type": "Consent",
            "action": "GIVEN",
            "purpose": "LENDING",
            "policyHash": POLICY_HASH,
            "expiresAt": now + ONE_YEAR,
        },
    ]


def run_demo(settings: Settings, out: Path, console: Console) -> None:
    ledger = open_ledger(settings)
    platform = settings.platform_list[0]
    console.print(
        f"[bold]BindLedger demo[/] — contract {ledger.contract.address} on "
        f"{ledger.chain.describe()}"
    )
    drafts: TypeAdapter[Any] = TypeAdapter(RecordDraft)
    last_ids: list[int] = []
    for subject_id, phone, account in BORROWERS:
        for doc in borrower_story(subject_id, phone, account, ledger.now()):
            prepared = prepare(
                drafts.validate_python(doc), platform.address, ledger.refs, ledger.now()
            )
            accepted = ledger.sign_and_submit(platform, prepared.subject, prepared.build)
        last_ids.append(accepted.row.id)
    heads = ledger.seal_and_anchor()
    head = heads[-1]
    console.print(f"anchored head of {head.tree_size} records in block {head.block_number}")

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for record_id in range(1, head.tree_size + 1):
        path = out / f"record-{record_id}.proof.json"
        path.write_text(ledger.proof_bundle(record_id).dumps())
        paths.append(path)
    console.print(f"wrote {len(paths)} proof bundles to {out}")

    original = paths[last_ids[0] - 1]
    tampered_doc = json.loads(original.read_text())
    tampered_doc["record"]["expiresAt"] += ONE_YEAR  # a platform quietly extends consent
    tampered = out / "tampered.proof.json"
    tampered.write_text(json.dumps(tampered_doc, indent=2) + "\n")

    table = Table(title="demo summary")
    for column in ("bundle", "record", "leaf", "verdict"):
        table.add_column(column)
    ok = True
    for path, expect in ((original, True), (tampered, False)):
        bundle = ProofBundle.loads(path.read_text())
        verdict = verify_bundle(bundle, ledger.chain)
        ok &= verdict.verified is expect
        mark = (
            "[green]verified[/]" if verdict.verified else f"[red]rejected[/] — {verdict.reason()}"
        )
        table.add_row(path.name, bundle.record.record.TYPE_NAME, str(bundle.leaf_index), mark)
    console.print(table)
    console.print(
        f"borrowers: {len(BORROWERS)}, records: {head.tree_size}, anchor transactions: {len(heads)}"
    )
    if not ok:
        raise SystemExit("demo failed: a verdict was not what it should be")
