"""`bindledger demo`: the whole path once, on a chain of your choice (embedded by default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table

from ledger.config import Platform, Settings
from ledger.core.bundle import ProofBundle
from ledger.core.encoding import to_hex
from ledger.core.records import LoanCreation, RiskWarning
from ledger.drafts import (
    DisbursementDraft,
    LoanDraft,
    RecordDraft,
    prepare,
    prepare_loan,
    prepare_loan_event,
)
from ledger.errors import LedgerStateError
from ledger.risk.evaluate import dataset
from ledger.risk.model import RiskModel, fit
from ledger.risk.warnings import assess, release_model, top_feature_names
from ledger.rules import RuleRefusedError, RulesClient, rules_for
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.timeline import export_timeline
from ledger.verify import verify_bundle

POLICY_HASH = "0x" + "ab" * 32
ONE_YEAR = 365 * 24 * 3600
MONTH = 30 * 24 * 3600

# Made-up borrowers. Their raw identifiers never leave this process: records carry keyed
# references only, and the tables below name them by the first bytes of their reference.
BORROWERS = [
    ("110105199001011234", "138 0013 8000", "LOAN-0001"),
    ("310101198505052345", "+86 139 1234 5678", "LOAN-0002"),
    ("440301199212123456", "186-2000-3000", "LOAN-0003"),
]
# A borrower who is verified and bound but has not consented to lending yet.
UNCONSENTED = ("320102199503034567", "+86 137 0000 1111", "LOAN-0004")
# The borrower whose number is taken over: a customer of the first lender and of a second one.
TAKEN_OVER = BORROWERS[1]
# The second lender of the takeover story, added when the settings name only one platform (a
# development key: anvil's fifth account).
SECOND_LENDER = {
    "name": "demo-lender-b",
    "key": "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "apiKey": "demo-lender-b-key",
}


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


# The demo's risk model: trained in the run on a small synthetic population of this seed (a
# couple of seconds), as `bindledger risk train --size 800 --seed 31` would make it.
DEMO_MODEL_SIZE = 800
DEMO_MODEL_SEED = 31


def demo_model() -> RiskModel:
    data = dataset(DEMO_MODEL_SIZE, seed=DEMO_MODEL_SEED)
    return fit(data.rows, data.labels, seed=DEMO_MODEL_SEED)


# How long the demo waits for its anchor to be final (a chain mining a block a second needs
# a few seconds at the default depth).
FINALITY_TIMEOUT_SECONDS = 120.0


class BundlesExistError(LedgerStateError):
    """The demo's output folder already holds proof bundles, which it would overwrite."""


def check_out_folder(out: Path) -> None:
    """Raise BundlesExistError if `out` holds bundles: evidence is never overwritten, and a
    folder mixing two runs' bundles (two contracts, two chains) would mislead whoever reads it."""
    existing = sorted(p.name for p in out.glob("*.proof.json")) if out.is_dir() else []
    if existing:
        shown = ", ".join(existing[:3]) + (", …" if len(existing) > 3 else "")
        raise BundlesExistError(
            f"{out} already holds proof bundles ({shown}): give another --out, or remove them"
        )


def with_two_lenders(settings: Settings) -> Settings:
    """The settings, with SECOND_LENDER added when they name a single platform."""
    if len(settings.platform_list) >= 2:
        return settings
    platforms = json.loads(settings.platforms) + [SECOND_LENDER]
    # A new object (not model_copy): the parsed platform list is cached on the old one.
    return type(settings)(**{**settings.model_dump(), "platforms": json.dumps(platforms)})


def run_demo(settings: Settings, out: Path, console: Console) -> None:
    check_out_folder(out)
    settings = with_two_lenders(settings)
    ledger = open_ledger(settings)
    platform = settings.platform_list[0]
    console.print(
        f"[bold]BindLedger demo[/] — contract {ledger.contract.address} on "
        f"{ledger.chain.describe()}"
    )
    rules = rules_for(ledger)
    last_ids: list[int] = []
    for subject_id, phone, account in BORROWERS:
        for doc in borrower_story(subject_id, phone, account, ledger.now()):
            # Every record passes the contract's rules before it is stored in the log.
            accepted = _submit(ledger, rules, platform, doc)
        last_ids.append(accepted.row.id)
    heads = ledger.seal_and_anchor()
    if ledger.store.unfinished_heads():
        console.print(f"waiting for {ledger.anchorer.policy.confirmations} block(s) to follow "
                      "the anchor's block…")
        heads += ledger.anchorer.settle(FINALITY_TIMEOUT_SECONDS)
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
    ok &= _loans(ledger, rules, platform, console)
    ok &= _takeover(ledger, rules, settings.platform_list[:2], console)
    if not ok:
        raise SystemExit("demo failed: a verdict was not what it should be")


def _submit(ledger: Ledger, rules: RulesClient, platform: Platform, doc: dict[str, Any]) -> Any:
    drafts: TypeAdapter[Any] = TypeAdapter(RecordDraft)
    prepared = prepare(drafts.validate_python(doc), platform.address, ledger.refs, ledger.now())
    return rules.sign_and_submit(platform, prepared.subject, prepared.build).accepted


def _loans(ledger: Ledger, rules: RulesClient, platform: Platform, console: Console) -> bool:
    """One disbursement refused (no lending consent: R3) and one made; True when as expected."""
    now = ledger.now()
    subject_id, phone, account = UNCONSENTED
    for doc in borrower_story(subject_id, phone, account, now)[:3]:  # all but the consent
        _submit(ledger, rules, platform, doc)
    table = Table(title="repayment-risk rules")
    for column in ("borrower", "action", "outcome"):
        table.add_column(column)
    ok = True
    for (borrower, _, loan_number), expect_refusal in ((UNCONSENTED, True), (BORROWERS[0], False)):
        draft = LoanDraft.model_validate({
            "subjectId": borrower, "loanId": loan_number,
            "dueTimes": [now + MONTH * (i + 1) for i in range(3)], "amounts": [1_000] * 3,
        })
        prepared = prepare_loan(draft, platform.address, ledger.refs, now)
        created = rules.sign_and_submit(platform, prepared.subject, prepared.build)
        creation = created.accepted.record.record
        assert isinstance(creation, LoanCreation)
        event = prepare_loan_event(DisbursementDraft(amount=3_000), creation, ledger.refs, now)
        # Not even part of an ID number is shown: a prefix is a birthplace, a suffix narrows
        # the candidates; the subject's keyed reference names the borrower instead.
        named = f"{to_hex(prepared.subject)[:10]}…"
        try:
            done = rules.sign_and_submit(platform, event.subject, event.build)
        except RuleRefusedError as refusal:
            facts = ", ".join(f"{k}={_short(v)}" for k, v in refusal.facts.items())
            outcome = f"[red]refused by {refusal.rule}[/] — {refusal.error}({facts})"
            if refusal.recorded is not None:
                outcome += f", logged as record {refusal.recorded.row.id}"
            ok &= expect_refusal
        else:
            outcome = (f"[green]disbursed[/] — tx {done.tx.tx_hash.hex()[:12]}… in block "
                       f"{done.tx.block_number}, record {done.accepted.row.id} in the log")
            ok &= not expect_refusal
        table.add_row(named, "disburse 3 000", outcome)
    console.print(table)
    ledger.seal_and_anchor()  # the loan records are anchored too
    return ok


def _takeover(
    ledger: Ledger, rules: RulesClient, lenders: list[Platform], console: Console
) -> bool:
    """A number takeover, stopped at another lender before and after the SIM swap is known.
    At the second lender, where the borrower is bound, whoever holds the number fails the
    liveness check twice; the risk model warns, and the disbursement is refused (R9). Then the
    first lender detects the SIM swap, and the disbursement is refused again (R4). The
    borrower's timeline there shows the warning and both refusals. True when so."""
    first, second = lenders
    subject_id, phone, account = TAKEN_OVER
    now = ledger.now()
    for doc in borrower_story(subject_id, phone, account, now):
        _submit(ledger, rules, second, doc)
    draft = LoanDraft.model_validate({
        "subjectId": subject_id, "loanId": "LOAN-B-0001",
        "dueTimes": [now + MONTH * (i + 1) for i in range(3)], "amounts": [1_000] * 3,
    })
    prepared = prepare_loan(draft, second.address, ledger.refs, now)
    creation = rules.sign_and_submit(second, prepared.subject, prepared.build).accepted
    loan = creation.record.record
    assert isinstance(loan, LoanCreation)

    model = demo_model()
    release_model(ledger, second, model)

    table = Table(title="a number takeover, across two lenders")
    for column in ("lender", "action", "outcome"):
        table.add_column(column)
    for _ in range(2):
        _submit(ledger, rules, second, {"subjectId": subject_id, "type": "Verification",
                                        "method": "LIVENESS", "passed": False, "phone": phone})
    table.add_row(second.name, "liveness check ×2", "[yellow]failed[/]: someone else holds the "
                  "number")
    assessed = assess(ledger, second, prepared.subject, model)
    warned = assessed.warning is not None
    if assessed.warning is not None:
        warning = assessed.warning.record.record
        assert isinstance(warning, RiskWarning)
        why = ", ".join(top_feature_names(warning))
        table.add_row(second.name, "risk model", f"[yellow]warned[/]: score "
                      f"{assessed.score.basis_points} bp ≥ {assessed.threshold} bp ({why}), "
                      f"record {assessed.warning.row.id}; no disbursement before a passed "
                      "liveness and SIM-swap check (R9)")
    else:
        table.add_row(second.name, "risk model", "[red]no warning[/]")
    refused_r9 = _try_disbursement(ledger, rules, second, loan, "R9", table)
    _submit(ledger, rules, first, {"subjectId": subject_id, "type": "Verification",
                                   "method": "SIM_SWAP_CHECK", "passed": False, "phone": phone})
    table.add_row(first.name, "SIM-swap check", "[yellow]swap detected[/]: the borrower and the "
                  "number cool for 72 h at every lender (R4)")
    refused_r4 = _try_disbursement(ledger, rules, second, loan, "R4", table)
    console.print(table)
    ledger.seal_and_anchor()
    if ledger.store.unfinished_heads():  # a timeline holds final anchors only
        ledger.anchorer.settle(FINALITY_TIMEOUT_SECONDS)
    timeline = export_timeline(ledger, second.address, prepared.subject)
    kinds = [entry.record.record.TYPE_NAME for entry in timeline.entries]
    console.print(f"the borrower's timeline at {second.name}: {len(kinds)} records, "
                  f"{kinds.count('RiskWarning')} risk warning and {kinds.count('Refusal')} "
                  "refusals (R9, R4) among them")
    return (warned and refused_r9 and refused_r4 and kinds.count("Refusal") == 2
            and kinds.count("RiskWarning") == 1)


def _try_disbursement(ledger: Ledger, rules: RulesClient, lender: Platform, loan: LoanCreation,
                      rule: str, table: Table) -> bool:
    """Ask the contract to disburse the loan; add the outcome to the table. True when `rule`
    refused it."""
    event = prepare_loan_event(DisbursementDraft(amount=3_000), loan, ledger.refs, ledger.now())
    try:
        rules.sign_and_submit(lender, event.subject, event.build)
    except RuleRefusedError as refusal:
        facts = ", ".join(f"{k}={_short(v)}" for k, v in refusal.facts.items())
        outcome = f"[red]refused by {refusal.rule}[/] — {refusal.error}({facts})"
        if refusal.recorded is not None:
            outcome += f", logged as record {refusal.recorded.row.id}"
        refused = refusal.rule == rule
    else:
        outcome, refused = f"[red]disbursed despite {rule}[/]", False
    table.add_row(lender.name, "disburse 3 000", outcome)
    return refused


def _short(value: Any) -> Any:
    """A 32-byte hex value as its first bytes, for the table."""
    return f"{value[:10]}…" if isinstance(value, str) and len(value) > 20 else value
