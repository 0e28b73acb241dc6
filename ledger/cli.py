"""The `bindledger` command line: demo, serve, deploy, verify, audit, sign, submit."""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from web3 import Web3

from ledger.anchors import AnchorContract
from ledger.chain.client import ChainError, ChainUnreachableError, connect_chain
from ledger.config import Settings, describe_settings
from ledger.core.bundle import BundleDecodeError, ProofBundle
from ledger.core.encoding import from_hex
from ledger.core.records import LoanCreation
from ledger.core.timeline import Timeline
from ledger.core.verdict import Outcome, Verdict
from ledger.errors import LedgerError
from ledger.governance import (
    DEFAULT_TIMELOCK_DELAY,
    GovernedDeployment,
    TimelockSettingError,
    check_timelock_settings,
    deploy_governed,
)
from ledger.risk.cli import risk_app
from ledger.store.sqlite import SqliteStore
from ledger.timeline import TimelineVerdict, verify_timeline

# Where `serve` keeps its records on a JSON-RPC chain when no database is named (as
# ledger.runtime.database_path does); the embedded chain's database lives in memory.
DEFAULT_DATABASE = "bindledger.sqlite3"

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

ContractOption = Annotated[
    str | None,
    typer.Option(help="BindLedger contract address (default: the one the database anchors in)",
                 envvar="BINDLEDGER_CONTRACT", show_default=False),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(help="SQLite database file (default on a JSON-RPC chain: "
                 f"{DEFAULT_DATABASE}), or postgresql://user@host:port/name",
                 envvar="BINDLEDGER_DATABASE", show_default=False),
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
    contract: ContractOption = None,
    database: DatabaseOption = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes; more than one needs a PostgreSQL --database and a --chain "
            "node (the anchoring worker runs in one of them at a time)",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API (OpenAPI documentation at /docs, for a key holder) and the anchoring worker.

    Without --contract, a database that already anchors in a contract goes on with it; a new
    database gets a newly deployed contract."""
    import uvicorn

    from api.main import create_app
    from ledger.runtime import open_ledger, release_relayer
    from ledger.store.open import is_postgres

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    overrides = {
        k: v for k, v in {"chain": chain, "contract": contract, "database": database}.items() if v
    }
    settings = _with_database_contract(_settings(chain, contract, database))
    if workers > 1 and not is_postgres(settings.database):
        raise _fail(
            f"--workers {workers} needs a PostgreSQL database (--database postgresql://...): "
            "a SQLite file takes one process only",
            1,
        )
    if workers > 1 and settings.chain == "embedded":
        raise _fail(
            f"--workers {workers} needs a chain node (--chain URL): the embedded chain lives "
            "inside one process",
            1,
        )
    relayers = len(settings.relayer_accounts)
    if workers > relayers:
        raise _fail(
            f"--workers {workers} needs {workers} relayer accounts, one per process (two "
            f"sending from one would spend one nonce twice): {relayers} configured in "
            "BINDLEDGER_RELAYER_KEY and BINDLEDGER_RELAYER_KEYS",
            1,
        )
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
    if workers == 1:
        uvicorn.run(create_app(settings, ledger), host=host, port=port, log_level="info")
        return
    # Each worker process opens its own ledger from the environment (api.main.create_app),
    # on the contract this process checked or deployed, so they all serve the same one.
    release_relayer(ledger.store)  # this process serves nothing: its workers relay
    ledger.store.close()
    os.environ.update({f"BINDLEDGER_{k.upper()}": str(v) for k, v in overrides.items()})
    os.environ["BINDLEDGER_CONTRACT"] = ledger.contract.address
    uvicorn.run(
        "api.main:create_app", factory=True, workers=workers, host=host, port=port,
        log_level="info",
    )


db = typer.Typer(help="The database's schema.", no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade(
    database: Annotated[
        str,
        typer.Option(
            help="SQLite database file, or postgresql://user@host:port/name",
            envvar="BINDLEDGER_DATABASE",
        ),
    ],
) -> None:
    """Bring the database's schema to this version of BindLedger (numbered migrations, each
    applied once). PostgreSQL needs this before `serve`; a SQLite file is also upgraded when
    opened."""
    from ledger.store.open import upgrade_database

    try:
        applied = upgrade_database(database)
    except (LedgerError, OSError) as exc:
        raise _fail(str(exc), 1) from None
    if applied:
        console.print("applied " + ", ".join(applied))
    else:
        console.print("the database is up to date")


EXIT_BAD_OPTION = 2  # as typer's own usage errors


def _address_option(value: str | None) -> str | None:
    if value is not None and not Web3.is_address(value):
        raise typer.BadParameter(f"{value!r} is not an address (0x and 40 hex digits)")
    return None if value is None else Web3.to_checksum_address(value)


@app.command()
def deploy(
    chain: ChainOption = None,
    predecessor: Annotated[
        str | None,
        typer.Option("--predecessor", metavar="ADDRESS", callback=_address_option,
                     help="an earlier BindLedger deployment whose logs the new one continues: "
                          "each platform's first head must extend its latest head there",
                     show_default=False),
    ] = None,
    timelock_delay: Annotated[int, typer.Option(
        min=0, help="seconds a scheduled role grant or parameter change waits on the "
        "BindLedgerTimelock before it can be executed (0 only on the embedded chain)")
    ] = DEFAULT_TIMELOCK_DELAY,
    proposer: Annotated[list[str] | None, typer.Option(
        help="address that may schedule operations on the timelock (repeat for several; "
        "default: the admin account)", show_default=False)] = None,
    executor: Annotated[list[str] | None, typer.Option(
        help="address that may execute ready operations (repeat for several; default: the "
        "proposers)", show_default=False)] = None,
    admin_direct: Annotated[bool, typer.Option(
        "--admin-direct", help="development only: no timelock, the admin account is the "
        "ledger's admin and `serve` grants the roles with it at once")] = False,
) -> None:
    """Deploy a BindLedgerTimelock and a new BindLedger governed by it; print the ledger's
    address.

    Role grants and rule parameter changes are then scheduled on the timelock by a proposer and
    executed after --timelock-delay. With --admin-direct the admin account governs the ledger
    itself, as the development setup (`serve` on a new contract, the demo) does."""
    settings = Settings(chain=chain or "embedded")
    embedded = settings.chain == "embedded"
    governed: GovernedDeployment | None = None
    try:
        if not admin_direct:
            check_timelock_settings(timelock_delay, proposer or [settings.admin_account.address],
                                    executor or proposer or [settings.admin_account.address],
                                    embedded)
        client = connect_chain(settings.chain)
        if admin_direct:
            contract = AnchorContract.deploy(client, settings.admin_account, predecessor)
        else:
            governed = deploy_governed(client, settings.admin_account, timelock_delay,
                                       proposer or (), executor or (), predecessor)
            contract = governed.ledger
    except TimelockSettingError as exc:
        raise _fail(str(exc), EXIT_BAD_OPTION) from None
    except (LedgerError, OSError) as exc:
        raise _fail(str(exc), 1) from None
    if client.embedded:
        err.print("[yellow]note:[/] deployed on the embedded chain, which ends with this command")
    console.print(contract.address)  # alone on stdout, for scripts: ADDRESS=$(bindledger deploy)
    if governed is not None:
        err.print(_governed_next_steps(governed, settings.chain), soft_wrap=True,
                  highlight=False)
    elif not client.embedded:
        err.print(
            f"next: bindledger serve --chain {settings.chain} --contract {contract.address}\n"
            f"      (or put BINDLEDGER_CONTRACT={contract.address} in the environment or .env)",
            soft_wrap=True, highlight=False,
        )


def _governed_next_steps(governed: GovernedDeployment, chain: str) -> str:
    address = governed.ledger.address
    return (
        f"BindLedger {address} is governed by the BindLedgerTimelock {governed.timelock}\n"
        f"  minimum delay {governed.delay} s; proposers {', '.join(governed.proposers)}; "
        f"executors {', '.join(governed.executors)}\n"
        "next: a proposer schedules on the timelock, for each platform and regulator,\n"
        f"      schedule({address}, 0, grantRole(PLATFORM_ROLE or REGULATOR_ROLE, account), "
        f"0x00..., salt, {governed.delay});\n"
        f"      after {governed.delay} s an executor calls execute(...) with the same arguments;\n"
        f"      then: bindledger serve --chain {chain} --contract {address}\n"
        f"      (or put BINDLEDGER_CONTRACT={address} in the environment or .env)"
    )


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
        help="platform address (default: the first configured platform)")] = None,
    chain: ChainOption = None,
    contract: ContractOption = None,
    database: DatabaseOption = None,
) -> None:
    """Export a subject's or a loan's timeline (bindledger.timeline/1) from the ledger's
    database and chain (those `serve` runs with): every record with its proof, for
    `bindledger verify` and `bindledger report`. A loan's timeline is its subject's, naming
    the loan."""
    from ledger.runtime import open_ledger
    from ledger.timeline import export_loan_timeline, export_timeline

    settings = _settings(chain, contract, database)
    if settings.chain == "embedded":
        # A new embedded chain and its in-memory database hold nothing to export.
        raise _fail("give the chain the ledger anchors in: --chain URL", EXIT_UNREADABLE)
    path = _database_file(settings)
    if path is None or not path.exists():
        raise _fail(f"no database at {path}: give the one `serve` writes, --database FILE",
                    EXIT_UNREADABLE)
    settings = _with_database_contract(settings)
    if settings.contract is None:
        raise _fail(f"the database {path} has anchored nothing yet: give --contract ADDRESS",
                    EXIT_UNREADABLE)
    try:
        # `serve` may be writing the database meanwhile: read it beside it.
        ledger = open_ledger(settings, read_only=True)
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
    out.write_text(render_report(parsed, verdict, _platform_names()))
    console.print(f"wrote {out}" + ("" if verdict else " (not checked: no --chain given)"))
    if pdf is not None:
        try:
            html_to_pdf(out, pdf)
        except PdfRenderError as exc:
            raise _fail(str(exc), 1) from None
        console.print(f"wrote {pdf}")


def _settings(chain: str | None, contract: str | None, database: str | None) -> Settings:
    """The settings, with the options given on the command line in place of theirs."""
    given = {"chain": chain, "contract": contract, "database": database}
    return Settings(**{k: v for k, v in given.items() if v})  # type: ignore[arg-type]


def _database_file(settings: Settings) -> Path | None:
    """The database file the ledger keeps on this chain (None: in memory)."""
    if settings.database == ":memory:" or (not settings.database and settings.chain == "embedded"):
        return None
    return Path(settings.database or DEFAULT_DATABASE)


def _with_database_contract(settings: Settings) -> Settings:
    """Without a contract named, the one the existing database anchors in: opening the
    database with a newly deployed contract would only be refused (another contract)."""
    path = _database_file(settings)
    if settings.contract or path is None or not path.exists():
        return settings
    found = contract_of_database(path)
    if found is None:
        return settings
    err.print(f"using contract {found} (from {path})", soft_wrap=True, highlight=False)
    return settings.model_copy(update={"contract": found})


def contract_of_database(path: Path) -> str | None:
    """The contract the database's latest anchored head is in (None before any anchor)."""
    store = SqliteStore(str(path), read_only=True)  # `serve` may be writing it
    try:
        heads = [h for p in store.platforms() for h in store.heads(p) if h.contract]
    finally:
        store.close()
    latest = max(heads, key=lambda h: h.sealed_at, default=None)
    return None if latest is None else latest.contract


def _platform_names() -> dict[str, str]:
    """The configured platforms' names by address, for people reading a report."""
    try:
        return {p.address: p.name for p in Settings().platform_list}
    except (LedgerError, ValueError):
        return {}  # a bad setting must not stop a report, which only names what it can


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


KeyEnvOption = Annotated[str, typer.Option(
    "--key-env", help="environment variable holding the platform's private key (0x-hex)")]


@app.command()
def sign(
    source: Annotated[str, typer.Argument(
        help="JSON file of a record, or an array of records, with raw values or references "
        "('-': standard input)")] = "-",
    key_env: KeyEnvOption = "BINDLEDGER_PLATFORM_KEY",
    key_file: Annotated[Path | None, typer.Option(
        help="file holding the platform's key instead: 0x-hex, or a JSON keystore whose "
        "password is in BINDLEDGER_PLATFORM_KEY_PASSWORD")] = None,
    secret_env: Annotated[str, typer.Option(
        help="environment variable holding the consortium's reference secret")
    ] = "BINDLEDGER_REF_SECRET",
    secret_file: Annotated[Path | None, typer.Option(
        help="file holding the reference secret instead")] = None,
    api: Annotated[str | None, typer.Option(
        help="API whose deployment (chain id, contract) the records are signed for",
        envvar="BINDLEDGER_API", show_default=False)] = None,
    chain_id: Annotated[int | None, typer.Option(
        min=1, help="the deployment's chain id, to sign without asking an API")] = None,
    contract: Annotated[str | None, typer.Option(
        help="the deployment's contract, to sign without asking an API")] = None,
) -> None:
    """Sign records as the platform (EIP-712) and print them signed, as JSON.

    Raw phone numbers, ID numbers and loan numbers in reference members (subject, phone,
    account, loan, channel) are replaced by their keyed references; `platform`, `prev` and
    `timestamp` may be left out. The key and the secret are read from the environment or
    files, never from arguments, and never printed. Exit 0 signed, 1 the API refused to name
    its deployment, 2 unreadable input, key or secret, or a malformed record, 3 the API cannot
    be reached."""
    from ledger.client.command import CommandFailed, SignOptions, sign_command

    options = SignOptions(source, key_env, key_file, secret_env, secret_file, api, chain_id,
                          contract)
    try:
        sign_command(options, sys.stdout)
    except CommandFailed as exc:
        raise _fail(str(exc), exc.code) from None


@app.command()
def submit(
    source: Annotated[str, typer.Argument(
        help="JSON file of a signed record, or an array of them ('-': standard input)")] = "-",
    api: Annotated[str, typer.Option(
        help="base URL of the BindLedger API", envvar="BINDLEDGER_API")] = "http://127.0.0.1:8000",
    api_key_env: Annotated[str, typer.Option(
        help="environment variable holding the platform's API key")] = "BINDLEDGER_API_KEY",
    rules: Annotated[bool, typer.Option(
        "--rules", help="through the contract's rules first (POST /v1/subjects/records/signed), "
        "one by one")] = False,
) -> None:
    """Send signed records to the API and print, per record, its id, hash and `created` or
    `stored-before`. Connection failures, 5xx and 429 are retried (a record sent again is
    answered with the stored one). Exit 0 stored, 1 refused (the reason is printed), 2
    unreadable input or no API key, 3 the API cannot be reached."""
    from ledger.client.command import CommandFailed, SubmitOptions, submit_command

    try:
        submit_command(SubmitOptions(source, api, api_key_env, rules), sys.stdout)
    except CommandFailed as exc:
        raise _fail(str(exc), exc.code) from None


if __name__ == "__main__":
    app()


vault_app = typer.Typer(help="The evidence vault's keys.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")
app.add_typer(risk_app, name="risk")


@vault_app.command("rotate")
def vault_rotate() -> None:
    """Re-wrap every subject's data key wrapped by a retired vault key
    (BINDLEDGER_VAULT_RETIRED_KEYS) with the current one (BINDLEDGER_VAULT_KEY), in the
    configured database; the retired keys can be removed from the configuration afterwards.
    `bindledger serve` does the same at start."""
    from ledger.privacy.keys import KeyRing, rotate_data_keys
    from ledger.store.sqlite import SqliteStore

    settings = Settings()
    if not settings.database:
        raise _fail("BINDLEDGER_DATABASE names no database file", 1)
    try:
        keys = KeyRing.parse(settings.vault_key, settings.vault_retired_keys)
        store = SqliteStore(settings.database)
        try:
            done = rotate_data_keys(store, keys)
        finally:
            store.close()
    except LedgerError as exc:
        raise _fail(str(exc), 1) from None
    console.print(f"re-wrapped {done} data key(s) with vault key {keys.current.key_id}")
