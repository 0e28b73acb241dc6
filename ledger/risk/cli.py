"""`bindledger risk`: train the risk model on a synthetic population, and measure it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.core.encoding import to_hex
from ledger.risk.model import BASIS_POINTS, ModelFileError, load_model

risk_app = typer.Typer(
    help="The risk model: trained and measured on synthetic populations only.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

# Big enough for a stable model and threshold, small enough to train in seconds on 2 cores.
DEFAULT_SIZE = 6_000
TRAINING_SEED = 20_260_101
EVALUATION_SEED = 20_260_102

SizeOption = Annotated[int, typer.Option(min=200, max=200_000,
                                         help="histories in the synthetic population")]


@risk_app.command("train")
def train_command(
    out: Annotated[Path, typer.Option(help="where to write the model file (JSON)")],
    seed: Annotated[int, typer.Option(min=0, max=2**64 - 1,
                                      help="seed of the training population")] = TRAINING_SEED,
    size: SizeOption = DEFAULT_SIZE,
    threshold: Annotated[int | None, typer.Option(
        min=1, max=BASIS_POINTS,
        help="warning threshold in basis points (default: the best F1 on the training data)",
        show_default=False)] = None,
) -> None:
    """Train on the synthetic population of SEED and write the model file; prints its
    SHA-256, the hash a ModelRelease records."""
    from ledger.risk.evaluate import train

    started = time.monotonic()
    model = train(size, seed, threshold)
    out.write_bytes(model.to_bytes())
    console.print(f"wrote {out}: {size} histories of seed {seed}, "
                  f"{time.monotonic() - started:.1f} s", highlight=False)
    console.print(f"model sha256 {to_hex(model.sha256)}", highlight=False)
    console.print(f"threshold {model.threshold} bp; training metrics "
                  + ", ".join(f"{k} {v}" for k, v in model.metrics.items()), highlight=False)


@risk_app.command("evaluate")
def evaluate_command(
    model_file: Annotated[Path, typer.Option("--model", help="a model file of `risk train`")],
    seed: Annotated[int, typer.Option(
        min=0, max=2**64 - 1, help="seed of the held-out population")] = EVALUATION_SEED,
    size: SizeOption = DEFAULT_SIZE,
    as_json: Annotated[bool, typer.Option("--json", help="print the results as JSON")] = False,
) -> None:
    """Measure the model on a held-out synthetic population, beside rules R1-R8 alone and a
    hand-written score: ROC AUC, precision and recall at the operating threshold, and the
    share of takeovers stopped before disbursement."""
    from ledger.risk.evaluate import evaluate

    try:
        model = load_model(model_file)
    except ModelFileError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if seed == model.seed:
        err.print(f"[bold red]error:[/] seed {seed} is the training population's: give "
                  "another --seed")
        raise typer.Exit(2)
    started = time.monotonic()
    result = evaluate(model, size, seed)
    if as_json:
        console.print_json(json.dumps(result.to_json()))
        return
    table = Table(title=f"held-out population: {size} histories of seed {seed} "
                  f"({result.adverse} adverse, {result.takeovers} takeovers)")
    for column in ("method", "ROC AUC", "precision", "recall", "takeovers stopped",
                   "genuine flagged"):
        table.add_column(column)
    for r in result.results:
        table.add_row(r.name, f"{r.auc:.3f}", f"{r.precision:.3f}", f"{r.recall:.3f}",
                      f"{r.takeovers_stopped:.1%}", f"{r.genuine_flagged:.1%}")
    console.print(table)
    console.print(f"measured in {time.monotonic() - started:.1f} s", highlight=False)
