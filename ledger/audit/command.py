"""`bindledger audit`: run an audit with a progress bar, print its summary and verdict, write
its report, and turn the outcome into the exit code of `verify` (0/1/2/3)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ledger.audit.report import AuditInputError, AuditReport, ServerUnreachableError
from ledger.audit.run import AuditOptions, run_audit
from ledger.chain.client import ChainError, connect_chain

API_KEY_ENV = "BINDLEDGER_AUDIT_API_KEY"
EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_UNREADABLE, EXIT_UNREACHABLE = 0, 1, 2, 3


class _Bar:
    """The audit's progress as rich progress bars, one per phase."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def phase(self, description: str, total: int) -> None:
        self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


def audit_command(
    options: AuditOptions, chain_url: str, out: Path | None, console: Console, err: Console
) -> int:
    """Run the audit; print and write what it found. Returns the exit code."""
    if not options.api_key:
        err.print(f"[bold red]error:[/] set the regulator's API key in {API_KEY_ENV}")
        return EXIT_UNREADABLE
    if chain_url == "embedded":
        err.print("[bold red]error:[/] give the chain that holds the anchors: --chain URL")
        return EXIT_UNREADABLE
    try:
        chain = connect_chain(chain_url)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            report = run_audit(options, chain, _Bar(progress))
    except AuditInputError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_UNREADABLE
    except (ServerUnreachableError, ChainError) as exc:
        err.print(f"[bold red]error:[/] cannot audit: {exc}")
        return EXIT_UNREACHABLE
    print_report(report, console)
    if out is not None:
        try:
            report.write(out)
        except OSError as exc:
            err.print(f"[bold red]error:[/] cannot write {out}: {exc.strerror or exc}")
            return EXIT_UNREADABLE
        console.print(f"wrote {out}")
    return EXIT_VERIFIED if report.verified else EXIT_NOT_VERIFIED


def print_report(report: AuditReport, console: Console) -> None:
    summary = report.summary
    table = Table(title=f"audit of {report.platform}")
    table.add_column("what")
    table.add_column("checked", justify="right")
    table.add_column("failures", justify="right")
    counts = {check.value: n for check, n in report.failures.counts.items()}

    def failed(*checks: str) -> str:
        n = sum(counts.get(c, 0) for c in checks)
        return f"[red]{n}[/]" if n else "[green]0[/]"

    heads = summary["heads"]
    records = summary["records"]
    tiles = summary["tiles"]
    subjects = summary["subjects"]
    table.add_row("records (hash, canonical form)", str(records["checked"]), failed("entry"))
    table.add_row("platform signatures", str(records["checked"]), failed("signature"))
    table.add_row("leaf hashes in level-0 tiles", str(records["checked"]), failed("leaf"))
    table.add_row("hash tiles above level 0", str(tiles["hashTilesCompared"]), failed("tile"))
    table.add_row("heads on chain = recomputed roots", str(heads["checked"]), failed("head"))
    table.add_row("successive heads consistent", str(max(heads["checked"] - 1, 0)),
                  failed("consistency"))
    table.add_row("checkpoint and its transaction", "1", failed("checkpoint", "mirror"))
    table.add_row("subjects' hash chains", str(subjects["count"]), failed("subject chain"))
    table.add_row("subject heads held by the contract", str(subjects["headsOnChain"]),
                  failed("subject head"))
    table.add_row("refusals replayed", str(records["refusalsReplayed"]), failed("refusal"))
    console.print(table)
    seconds = summary["seconds"]
    console.print(
        f"log size {summary['auditedSize']}; tiles fetched {tiles['fetched']}, reused "
        f"{tiles['reused']}; fetch {seconds['fetch']} s, checks {seconds['check']} s "
        f"({summary['recordsPerSecond']} records/s)")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    for failure in report.failures.kept[:20]:
        line = f"[red]✘[/] {failure.check.value} at {failure.where}: {failure.detail}"
        if failure.expected is not None:
            line += f" (expected {failure.expected}, got {failure.actual})"
        console.print(line)
    if len(report.failures.kept) > 20:
        console.print(f"... {report.failures.total - 20} more in the report")
    if report.verified:
        console.print("[bold green]VERIFIED[/]")
    else:
        console.print(f"[bold red]NOT VERIFIED[/] — {report.failures.total} failure(s)")
