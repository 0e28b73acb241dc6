"""The `bindledger` command line: demo, serve, deploy, verify, audit."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.anchors import AnchorContract
from ledger.chain.client import ChainError, ChainUnreachableError, connect_chain
from ledger.config import Settings, describe_settings
from ledger.core.bundle import BundleDecodeError, ProofBundle
from ledger.core.encoding import from_hex
from ledger.core.records import LoanCreation
from ledger.core.timeline import Timeline
from ledger.core.verdict import Outcome, Verdict
from ledger.errors import LedgerError
from ledger.timeline import TimelineVerdict, verify_timeline

app = typer.Typer(
    help="BindLedger: tamper-evident evidence of phone bindings for consumer-credit platforms. "
    "Every option can also be set as BINDLEDGER_<OPTION> in the environment or in .env.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    epilog=describe_settings(),
)
console = Console()
err = Console(stderr=True)

ChainOption = Annotated[
    str | None,
    typer.Option(
        "--chain",
        help="JSON-RPC URL of the chain, or 'embedded' (eth-tester)",
        envvar="BINDLEDGER_CHAIN",
        show_default=False,
    ),
]

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_UNREADABLE, EXIT_CHAIN_UNREACHABLE = 0, 1, 2, 3


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.command()
def demo(
    chain: ChainOption = None,
    out: Annotated[
        Path | None, typer.Option(help="write the proof bundles into this folder")
    ] = None,
    confirmations: Annotated[
        int | None,
        typer.Option(min=0, help="blocks that must follow the anchor's block before its proofs "
                     "are written (default: 0 on the embedded chain, 2 on a JSON-RPC chain)"),
    ] = None,
) -> None:
    """Deploy, write records for a few borrowers, anchor, wait for the anchor to be final,
    export and verify proof bundles, and show that a tampered bundle fails."""
    from ledger.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    # Each demo deploys its own contract, so its records live in memory with it.
    settings = Settings(chain=chain or "embedded", contract=None, database=":memory:",
                        confirmations=confirmations)
    try:
        run_demo(settings, out or Path(tempfile.mkdtemp(prefix="bindledger-demo-")), console)
    except (LedgerError, OSError) as exc:
        raise _fail(str(exc), 1) from None


@app.command(epilog=describe_settings())
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    chain: ChainOption = None,
    contract: Annotated[
        str | None, typer.Option(help="BindLedger contract address", envvar="BINDLEDGER_CONTRACT")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="SQLite database file", envvar="BINDLEDGER_DATABASE")
    ] = None,
) -> None:
    """Run the HTTP API (OpenAPI documentation at /docs) and the anchoring worker."""
    import uvicorn

    from api.main import create_app
    from ledger.runtime import open_ledger

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    overrides = {
        k: v for k, v in {"chain": chain, "contract": contract, "database": database}.items() if v
    }
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.uses_dev_secrets:
        err.print(
            "[yellow]warning:[/] using the public development keys and reference "
            "secret; set BINDLEDGER_PLATFORMS, BINDLEDGER_REGULATORS, BINDLEDGER_ADMINS and "
            "BINDLEDGER_REF_SECRET for real data"
        )
    try:
        ledger = open_ledger(settings)
    except (LedgerError, OSError) as exc:
        raise _fail(str(exc), 1) from None
    console.print(f"BindLedger contract {ledger.contract.address} on {ledger.chain.describe()}")
    uvicorn.run(create_app(settings, ledger), host=host, port=port, log_level="info")


@app.command()
def deploy(chain: ChainOption = None) -> None:
    """Deploy a new BindLedger contract and print its address."""
    settings = Settings(chain=chain or "embedded")
    try:
        client = connect_chain(settings.chain)
        contract = AnchorContract.deploy(client, settings.admin_account)
    except (LedgerError, OSError) as exc:
        raise _fail(str(exc), 1) from None
    if client.embedded:
        err.print("[yellow]note:[/] deployed on the embedded chain, which ends with this command")
    console.print(contract.address)


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="proof bundle (bindledger.proof/1 JSON)")],
    chain: Annotated[
        str | None,
        typer.Option("--chain", help="JSON-RPC URL of the chain that holds the anchor (required)",
                     envvar="BINDLEDGER_CHAIN", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
) -> None:
    """Verify a proof bundle or a timeline against a chain.

    Exit 0 verified, 1 not verified (the reason is printed), 2 the bundle cannot be read,
    3 the chain cannot be reached (nothing was concluded)."""
    try:
        text = bundle.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {bundle}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    is_timeline = _is_timeline(text)
    try:
        parsed: ProofBundle | Timeline = (
            Timeline.loads(text) if is_timeline else ProofBundle.loads(text))
    except BundleDecodeError as exc:
        kind = "timeline" if is_timeline else "proof bundle"
        raise _fail(f"{bundle} is not a {kind}: {exc}", EXIT_UNREADABLE) from None
    if not chain or chain == "embedded":
        # A new embedded chain holds no anchors: checking against it could only say "no".
        raise _fail("give the chain that holds the anchor: --chain URL", EXIT_UNREADABLE)
    try:
        client = connect_chain(chain)
    except ChainError as exc:
        raise _fail(str(exc), EXIT_CHAIN_UNREACHABLE) from None
    from ledger.verify import verify_bundle

    checked: Verdict | TimelineVerdict
    try:
        checked = (verify_timeline(parsed, client) if isinstance(parsed, Timeline)
                   else verify_bundle(parsed, client))
    except ChainUnreachableError as exc:  # the node went away during the checks
        raise _fail(str(exc), EXIT_CHAIN_UNREACHABLE) from None
    if isinstance(checked, TimelineVerdict):
        if as_json:
            console.print_json(json.dumps(checked.to_json()))
        else:
            print_timeline_verdict(checked)
        raise typer.Exit(EXIT_VERIFIED if checked.verified else EXIT_NOT_VERIFIED)
    verdict = checked
    if as_json:
        console.print_json(json.dumps(verdict.to_json()))
    else:
        print_verdict(verdict)
    raise typer.Exit(EXIT_VERIFIED if verdict.verified else EXIT_NOT_VERIFIED)


@app.command()
def timeline(
    subject_or_loan: Annotated[str, typer.Argument(
        metavar="SUBJECT_OR_LOAN",
        help="a subject's ID or 0x keyed reference, or a loan's 0x id (as POST /v1/loans "
        "returned it)")],
    out: Annotated[Path, typer.Option(help="where to write the timeline JSON")],
    platform: Annotated[str | None, typer.Option(
        help="platform address (default: the only configured platform)")] = None,
) -> None:
    """Export a subject's or a loan's timeline (bindledger.timeline/1) from the configured
    database and chain: every record with its proof, for `bindledger verify` and
    `bindledger report`. A loan's timeline is its subject's, naming the loan."""
    from ledger.runtime import open_ledger
    from ledger.timeline import export_loan_timeline, export_timeline

    settings = Settings()
    try:
        ledger = open_ledger(settings)
        address = platform or settings.platform_list[0].address
        if not subject_or_loan.startswith("0x"):
            exported = export_timeline(ledger, address, ledger.refs.subject(subject_or_loan))
        else:
            ref = from_hex(subject_or_loan, length=32, what="subject or loan")
            row = ledger.store.get_record_by_hash(ref)
            exported = (
                export_loan_timeline(ledger, ref, address)
                if row is not None and row.record_type == LoanCreation.TYPE_NAME
                else export_timeline(ledger, address, ref)
            )
    except (LedgerError, OSError) as exc:
        raise _fail(str(exc), 1) from None
    if not exported.entries:
        raise _fail("no records of this subject at this platform", 1)
    out.write_text(exported.dumps())
    console.print(f"wrote {len(exported.entries)} records to {out}")


@app.command()
def report(
    file: Annotated[Path, typer.Argument(help="timeline JSON (bindledger.timeline/1)")],
    out: Annotated[Path, typer.Option(help="where to write the HTML report")],
    chain: Annotated[str | None, typer.Option(
        "--chain", help="JSON-RPC URL to check every record against (recommended)",
        envvar="BINDLEDGER_CHAIN", show_default=False)] = None,
    pdf: Annotated[Path | None, typer.Option(
        help="also render the report to this PDF (needs Debian's chromium)")] = None,
) -> None:
    """Write a self-contained HTML report of a timeline, with each record's verdict."""
    from ledger.report import PdfRenderError, html_to_pdf, render_report

    try:
        parsed = Timeline.loads(file.read_bytes())
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    except BundleDecodeError as exc:
        raise _fail(f"{file} is not a timeline: {exc}", EXIT_UNREADABLE) from None
    verdict = None
    if chain and chain != "embedded":
        try:
            verdict = verify_timeline(parsed, connect_chain(chain))
        except ChainError as exc:
            raise _fail(str(exc), EXIT_CHAIN_UNREACHABLE) from None
    out.write_text(render_report(parsed, verdict))
    console.print(f"wrote {out}" + ("" if verdict else " (not checked: no --chain given)"))
    if pdf is not None:
        try:
            html_to_pdf(out, pdf)
        except PdfRenderError as exc:
            raise _fail(str(exc), 1) from None
        console.print(f"wrote {pdf}")


def _is_timeline(text: bytes) -> bool:
    return b'"bindledger.timeline/1"' in text[:4096]


def print_timeline_verdict(verdict: TimelineVerdict) -> None:
    table = Table(title="timeline verification")
    for column in ("#", "record", "outcome"):
        table.add_column(column)
    for index, record_type, entry in verdict.entries:
        outcome = "[green]✔ verified[/]" if entry.verified else f"[red]✘ {entry.reason()}[/]"
        table.add_row(str(index), record_type, outcome)
    console.print(table)
    mark = _MARKS[verdict.completeness.outcome]
    console.print(f"completeness: {mark} {verdict.completeness.detail}")
    if verdict.verified:
        console.print("[bold green]VERIFIED[/]")
    else:
        console.print(f"[bold red]NOT VERIFIED[/] — {verdict.reason()}")


_MARKS = {
    Outcome.PASSED: "[green]✔ passed[/]",
    Outcome.FAILED: "[red]✘ failed[/]",
    Outcome.SKIPPED: "[yellow]– skipped[/]",
}


def print_verdict(verdict: Verdict) -> None:
    table = Table(title="verification", show_lines=False)
    for column in ("check", "outcome", "detail"):
        table.add_column(column)
    for check in verdict.checks:
        detail = check.detail
        if check.expected is not None:
            detail += f"\nexpected {check.expected}\n     got {check.actual}"
        table.add_row(check.name.value, _MARKS[check.outcome], detail)
    console.print(table)
    if verdict.verified:
        console.print("[bold green]VERIFIED[/]")
    else:
        console.print(f"[bold red]NOT VERIFIED[/] — {verdict.reason()}")


@app.command()
def audit(
    platform: Annotated[str, typer.Argument(help="the platform's address")],
    server: Annotated[str, typer.Option(help="base URL of the BindLedger server")],
    chain: Annotated[str, typer.Option(
        "--chain", help="JSON-RPC URL of the chain that holds the anchors",
        envvar="BINDLEDGER_CHAIN", show_default=False)],
    contract: Annotated[str | None, typer.Option(
        help="the BindLedger contract you trust (default: the one the server names)")] = None,
    from_size: Annotated[int, typer.Option(
        min=0, help="read records from this leaf on (rounded down to 256); the heads and "
        "the tree are still checked whole")] = 0,
    mirror: Annotated[Path, typer.Option(
        help="folder of the local mirror: the next audit fetches only what is new")
    ] = Path("bindledger-mirror"),
    out: Annotated[Path | None, typer.Option(help="write the JSON report here")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="processes checking records (default: one per core)")] = None,
) -> None:
    """Mirror a platform's whole log from a server and check all of it against the chain.

    The regulator's (or an admin's) API key is read from BINDLEDGER_AUDIT_API_KEY. Exit 0
    verified, 1 not verified (each failure named by leaf index, tile path or head index),
    2 unreadable input or mirror, 3 server or chain unreachable."""
    import os

    from ledger.audit.command import API_KEY_ENV, audit_command
    from ledger.audit.run import AuditOptions

    options = AuditOptions(platform, server, os.environ.get(API_KEY_ENV, ""), mirror,
                           contract, from_size, workers)
    raise typer.Exit(audit_command(options, chain, out, console, err))


@app.command()
def bench(
    out: Annotated[
        Path, typer.Option(help="folder for bench.json, bench.png and bench.md")
    ] = Path("bench/results"),
    chain: Annotated[
        list[str] | None,
        typer.Option("--chain", help="eth-tester and/or anvil (default: both, one run each)"),
    ] = None,
    tiny: Annotated[bool, typer.Option(help="tiny sizes: a smoke test, not a benchmark")] = False,
) -> None:
    """Gas and throughput of BindLedger beside per-record anchoring and EAS, on eth-tester and
    anvil; prints tables and writes JSON, Markdown and a PNG plot. Needs npm ci (anvil)."""
    from ledger.bench.report import markdown
    from ledger.bench.run import Sizes, run_bench

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    sizes = Sizes.tiny() if tiny else Sizes.full()
    if chain:
        sizes.chains = chain
    try:
        report = run_bench(out, sizes, console)
    except (LedgerError, OSError, RuntimeError) as exc:
        raise _fail(str(exc), 1) from None
    (out / "bench.md").write_text(markdown(report), encoding="utf-8")
    console.print(f"wrote {out / 'bench.json'}, {out / 'bench.md'} and {out / 'bench.png'}")


if __name__ == "__main__":
    app()
