"""A timeline as a report a court can read: one self-contained HTML page (no external
resources), with a picture of binding, verification, consent and loan events over time and
each record's verdict."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from html import escape
from pathlib import Path

from ledger.core.encoding import to_hex
from ledger.core.records import (
    Binding,
    BindingAction,
    Consent,
    ConsentAction,
    Disbursement,
    Dispute,
    DisputeAction,
    LoanCreation,
    ModelRelease,
    Purpose,
    Record,
    Refusal,
    Repayment,
    RiskWarning,
    Verification,
    factors_of,
)
from ledger.core.timeline import Timeline
from ledger.core.verdict import Verdict
from ledger.errors import LedgerError
from ledger.refusals import RefusalDecodeError, describe_refusal
from ledger.risk.warnings import top_feature_names
from ledger.timeline import TimelineVerdict

_COLUMN = 56  # px per record in the picture
_LANES = ["binding", "verification", "lending consent", "contact consent", "repayment",
          "refusal, warning", "verdict"]
_LOAN_COLOURS = {"created": "#afb8c1", "disbursed": "#0969da", "disputed": "#bf8700",
                 "repaid": "#2da44e"}
_LANE_HEIGHT = 34
_LABEL_WIDTH = 130
_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code { font-size: 12px; word-break: break-all; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
.summary { padding: 0.8rem 1rem; border-radius: 6px; margin: 1rem 0; }
.summary.ok { background: #dafbe1; } .summary.bad { background: #ffebe9; }
"""


def format_time(ts: int) -> str:
    """A record time as UTC. Any uint64 renders: a record's timestamp is whatever its platform
    signed, and a time past year 9999 (which datetime cannot hold) is shown as its seconds."""
    try:
        return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"{ts} s after 1970 (beyond year 9999)"


_time = format_time


def _describe(record: Record) -> str:
    match record:
        case Binding():
            factors = ", ".join(m.name for m in factors_of(record.factors)) or "none"
            return f"{record.action.name} (factors: {factors})"
        case Verification():
            result = "passed" if record.passed else "FAILED"
            if record.method.name == "SIM_SWAP_CHECK" and not record.passed:
                result = "SWAP DETECTED"
            return f"{record.method.name} {result}"
        case Consent():
            return (
                f"{record.purpose.name} consent {record.action.name}, expires "
                f"{_time(record.expires_at)}"
            )
        case LoanCreation():
            return (
                f"loan {_short(record.loan)} created: {sum(record.amounts)} in "
                f"{len(record.amounts)} installments, the last due {_time(record.due_times[-1])}"
            )
        case Disbursement():
            return f"loan {_short(record.loan)} disbursed: {record.amount}"
        case Repayment():
            return f"loan {_short(record.loan)} repaid: {record.amount}"
        case Dispute():
            return f"loan {_short(record.loan)} dispute {record.action.name}"
        case Refusal():
            return _describe_refusal(record)
        case RiskWarning():
            top = ", ".join(top_feature_names(record)) or "none"
            return (
                f"risk warning (R9): score {record.score / 100:.2f}% reached the threshold "
                f"{record.threshold / 100:.2f}% of model {_short(record.model)}; top features: "
                f"{top}"
            )
        case ModelRelease():
            return (
                f"risk model {_short(record.model)} released: threshold "
                f"{record.threshold / 100:.2f}%, trained on seed {record.seed}"
            )
    fields = {
        k: v
        for k, v in record.to_json().items()
        if k not in ("type", "platform", "subject", "prev", "timestamp")
    }
    return ", ".join(f"{k}={escape(str(v))[:20]}" for k, v in fields.items())


def _short(value: bytes) -> str:
    return to_hex(value)[:10] + "…"


def _describe_refusal(refusal: Refusal) -> str:
    try:
        summary = describe_refusal(refusal)
    except RefusalDecodeError as exc:
        return f"R{refusal.rule} refusal (unreadable: {exc})"
    facts = ", ".join(f"{k}={str(v)[:14]}" for k, v in summary.facts.items())
    return (
        f"{summary.refused.record.TYPE_NAME} refused under {summary.rule}: "
        f"{summary.error}({facts})"
    )


class _LoanStatus:
    """The repayment status of one loan as its records tell it, record by record."""

    def __init__(self, loan: bytes | None) -> None:
        self.loan, self.owed, self.repaid = loan, 0, 0
        self.state: str | None = None

    def see(self, record: Record) -> None:
        loan = getattr(record, "loan", None)
        if loan is None or isinstance(record, Refusal):
            return
        if self.loan is None and isinstance(record, LoanCreation):
            self.loan = loan  # no loan named: follow the subject's latest
        if loan != self.loan:
            return
        match record:
            case LoanCreation():
                self.owed, self.repaid, self.state = sum(record.amounts), 0, "created"
            case Disbursement():
                self.state = "disbursed"
            case Repayment():
                self.repaid += record.amount
                self.state = "repaid" if self.repaid >= self.owed else "disbursed"
            case Dispute():
                opened = record.action is DisputeAction.OPEN
                self.state = "disputed" if opened else "disbursed"

    def label(self) -> str:
        return f"{self.state}: {self.repaid} of {self.owed} repaid"


def _picture(timeline: Timeline, verdict: TimelineVerdict | None) -> str:
    n = len(timeline.entries)
    width = _LABEL_WIDTH + _COLUMN * max(n, 1) + 20
    height = _LANE_HEIGHT * len(_LANES) + 30
    svg_open = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'role="img" aria-label="timeline">'
    )
    parts = [svg_open]
    for lane, label in enumerate(_LANES):
        y = lane * _LANE_HEIGHT + 20
        parts.append(f'<text x="4" y="{y + 4}" font-size="12">{label}</text>')
        parts.append(
            f'<line x1="{_LABEL_WIDTH}" y1="{y}" x2="{width - 10}" y2="{y}" stroke="#d0d7de"/>'
        )
    bound = False
    consent = {Purpose.LENDING: False, Purpose.CONTACT: False}
    loan = _LoanStatus(timeline.loan)
    verdicts: list[Verdict | None] = [v for _, _, v in verdict.entries] if verdict else [None] * n
    for i, entry in enumerate(timeline.entries):
        record = entry.record.record
        x = _LABEL_WIDTH + i * _COLUMN + _COLUMN // 2
        if isinstance(record, Binding):
            bound = record.action is not BindingAction.UNBIND
        if isinstance(record, Consent):
            consent[record.purpose] = record.action is ConsentAction.GIVEN
        loan.see(record)
        if loan.state is not None:
            parts.append(
                f'<rect x="{x - _COLUMN // 2}" y="{4 * _LANE_HEIGHT + 14}" width="{_COLUMN}" '
                f'height="12" fill="{_LOAN_COLOURS[loan.state]}"><title>{loan.label()}</title>'
                "</rect>"
            )
        states = [bound, None, consent[Purpose.LENDING], consent[Purpose.CONTACT]]
        for lane, state in enumerate(states):
            if state is not None:
                colour = "#2da44e" if state else "#afb8c1"
                parts.append(
                    f'<rect x="{x - _COLUMN // 2}" y="{lane * _LANE_HEIGHT + 14}" '
                    f'width="{_COLUMN}" height="12" fill="{colour}"/>'
                )
        if isinstance(record, Verification):
            colour = "#2da44e" if record.passed else "#cf222e"
            parts.append(
                f'<circle cx="{x}" cy="{_LANE_HEIGHT + 20}" r="7" fill="{colour}">'
                f"<title>{escape(_describe(record))}</title></circle>"
            )
        elif isinstance(record, RiskWarning):
            y = 5 * _LANE_HEIGHT + 20
            parts.append(  # a warning triangle with its bar and dot
                f'<g><title>{escape(_describe(record))}</title>'
                f'<polygon points="{x},{y - 9} {x - 9},{y + 7} {x + 9},{y + 7}" fill="#bf8700"/>'
                f'<rect x="{x - 1}" y="{y - 4}" width="2" height="6" fill="#fff"/>'
                f'<rect x="{x - 1}" y="{y + 3}" width="2" height="2" fill="#fff"/></g>'
            )
        elif isinstance(record, Refusal):
            y = 5 * _LANE_HEIGHT + 20
            parts.append(  # a no-entry sign: drawn, since fonts may lack the glyph
                f'<g><title>{escape(_describe(record))}</title>'
                f'<circle cx="{x}" cy="{y}" r="8" fill="#cf222e"/>'
                f'<rect x="{x - 5}" y="{y - 1.5}" width="10" height="3" fill="#fff"/></g>'
            )
        v = verdicts[i]
        mark, colour = (
            ("?", "#57606a")
            if v is None
            else (("✔", "#1a7f37") if v.verified else ("✘", "#cf222e"))
        )
        parts.append(
            f'<text x="{x - 5}" y="{6 * _LANE_HEIGHT + 25}" fill="{colour}" '
            f'font-size="16">{mark}</text>'
        )
        parts.append(f'<text x="{x - 4}" y="{height - 2}" font-size="10">{i}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_report(
    timeline: Timeline, verdict: TimelineVerdict | None, names: Mapping[str, str] | None = None
) -> str:
    """The report; without a verdict it says that nothing was checked against a chain.
    `names` gives the platforms' names by address, where the reader knows them."""
    if verdict is None:
        summary = '<div class="summary bad">Not checked against a chain.</div>'
    elif verdict.verified:
        summary = (
            '<div class="summary ok">VERIFIED: every record is signed by its platform, '
            "included in an anchored head held on chain, and the timeline is complete."
            "</div>"
        )
    else:
        summary = f'<div class="summary bad">NOT VERIFIED: {escape(verdict.reason())}</div>'
    rows = []
    for i, entry in enumerate(timeline.entries):
        record = entry.record.record
        v = verdict.entries[i][2] if verdict else None
        result = (
            "not checked"
            if v is None
            else (
                '<span class="ok">verified</span>'
                if v.verified
                else f'<span class="bad">{escape(v.reason())}</span>'
            )
        )
        rows.append(
            f"<tr><td>{i}</td><td>{_time(record.timestamp)}</td><td>{record.TYPE_NAME}</td>"
            f"<td>{escape(_describe(record))}</td><td><code>{to_hex(entry.record_hash)}</code>"
            f"</td><td>leaf {entry.leaf_index} of {entry.tree_size}; block "
            f"{entry.anchor.block_number}, tx <code>{to_hex(entry.anchor.tx_hash)}</code></td>"
            f"<td>{result}</td></tr>"
        )
    completeness = (
        ""
        if verdict is None
        else "".join(
            f"<p>{escape(check.name.value.capitalize())}: {escape(check.outcome.value)} — "
            f"{escape(check.detail)}</p>"
            for check in verdict.whole_checks
        )
    )
    anchor = timeline.entries[0].anchor if timeline.entries else None
    where = (
        ""
        if anchor is None
        else (f"<p>Chain {anchor.chain_id}, contract <code>{anchor.contract}</code></p>")
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BindLedger timeline report</title>
<style>{_CSS}</style></head><body>
<h1>{_title(timeline)}</h1>
<p>Platform {_platform(timeline.platform, names)}. The subject is named only by a keyed
reference; no phone number or identity number appears in this report.</p>
{where}{summary}{completeness}
<h2>Over time</h2>
{_picture(timeline, verdict)}
<h2>Records</h2>
<table><tr><th>#</th><th>time (platform's)</th><th>type</th><th>fact</th><th>record hash</th>
<th>anchored</th><th>verdict</th></tr>
{"".join(rows)}
</table></body></html>
"""


def _platform(address: str, names: Mapping[str, str] | None) -> str:
    name = (names or {}).get(address)
    code = f"<code>{escape(address)}</code>"
    return code if name is None else f"{escape(name)} ({code})"


def _title(timeline: Timeline) -> str:
    subject = f"subject <code>{to_hex(timeline.subject)}</code>"
    if timeline.loan is None:
        return f"Timeline of {subject}"
    return f"Timeline of loan <code>{to_hex(timeline.loan)}</code> of {subject}"


class PdfRenderError(LedgerError):
    """No PDF renderer is installed, or it failed."""


# Debian's Chromium prints HTML to PDF; the report is static, so this takes about a second.
PDF_RENDERERS = ("chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_SECONDS = 60


def html_to_pdf(html: Path, pdf: Path) -> None:
    """Render the HTML report to PDF with a headless Chromium; raises PdfRenderError."""
    browser = next((b for b in map(shutil.which, PDF_RENDERERS) if b), None)
    if browser is None:
        raise PdfRenderError(
            "no Chromium to render the PDF with; install Debian's: sudo apt-get install -y "
            "chromium (the HTML report is written)"
        )
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf.resolve()}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=PDF_TIMEOUT_SECONDS,
            check=False,
        )
    if done.returncode != 0 or not pdf.exists():
        raise PdfRenderError(f"Chromium could not render the PDF: {done.stderr.decode()[-300:]}")
