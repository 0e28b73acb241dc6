"""`bindledger sign` and `bindledger submit` for shell users, run as real processes.

- `sign` reads records with raw values, the key and the secret from the environment, and
  prints them signed with references in place of the raw values: no key, secret or raw value
  in its output; `submit` stores them and prints ids, `stored-before` when sent again.
- Exit codes: 2 for an unreadable or malformed record (the member named, the value not
  quoted), a missing key or API key; 1 for a record the server refuses (its reason printed);
  3 when the API cannot be reached.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from typer.testing import CliRunner, Result

from ledger.cli import app
from ledger.client import LedgerClient, References
from ledger.config import DEV_PLATFORM_API_KEY, DEV_PLATFORM_KEY, DEV_REF_SECRET
from ledger.core.encoding import to_hex
from ledger.core.records import SignedRecord
from tests.client.conftest import REPO, clean_env
from tests.support.anvil import free_port

RAW_PHONE, RAW_ID = "138 0013 8000", "cli-110105199001011234"
ENV = {"platform_key": DEV_PLATFORM_KEY, "ref_secret": DEV_REF_SECRET,
       "api_key": DEV_PLATFORM_API_KEY}


def bindledger(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], input=stdin, cwd=REPO,
                          env=clean_env(**env), capture_output=True, text=True, timeout=120,
                          check=False)


def in_process(*args: str, stdin: str = "", **env: str) -> Result:
    """The same command run in this process (typer's runner): for the many error cases, each
    of which would otherwise pay an interpreter's start."""
    settings = {f"BINDLEDGER_{k.upper()}": v for k, v in env.items()}
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BINDLEDGER_")}
    return CliRunner(env={**unset, **settings}).invoke(app, list(args), input=stdin)


def documents(subject: str) -> list[dict[str, object]]:
    return [
        {"type": "Binding", "subject": subject, "action": "BIND", "phone": RAW_PHONE,
         "account": "LOAN-0001", "factors": ["SMS_OTP", "LIVENESS"]},
        {"type": "Verification", "subject": subject, "method": "SMS_OTP", "passed": True,
         "phone": "+86 " + RAW_PHONE},
    ]


def test_signed_records_with_raw_values_are_submitted_and_resent_safely(
        api: str, tmp_path: Path) -> None:
    signed = bindledger("sign", "--api", api, stdin=json.dumps(documents(RAW_ID)), **ENV)

    assert signed.returncode == 0, signed.stderr
    records = json.loads(signed.stdout)
    refs = References(DEV_REF_SECRET)
    assert [r["subject"] for r in records] == [to_hex(refs.subject(RAW_ID))] * 2
    assert records[0]["phone"] == records[1]["phone"] == to_hex(refs.phone(RAW_PHONE))
    assert records[0]["factors"] == 0b11 and all(r["signature"] for r in records)
    said = signed.stdout + signed.stderr
    for secret in (DEV_PLATFORM_KEY[2:], DEV_REF_SECRET, RAW_PHONE, RAW_ID, "LOAN-0001"):
        assert secret.lower() not in said.lower()

    file = tmp_path / "signed.json"
    file.write_text(signed.stdout)
    submitted = bindledger("submit", str(file), "--api", api, **ENV)
    resent = bindledger("submit", "--api", api, stdin=signed.stdout, **ENV)

    assert submitted.returncode == 0, submitted.stderr
    lines = [line.split("\t") for line in submitted.stdout.splitlines()]
    assert [(hash_, how) for _, hash_, how in lines] == [
        (h, "created") for h in _hashes(api, records)]
    assert resent.returncode == 0, resent.stderr
    assert resent.stdout == submitted.stdout.replace("created", "stored-before")


def _hashes(api: str, records: list[dict[str, object]]) -> list[str]:
    with LedgerClient(api, None) as client:
        domain = client.domain()
    return [to_hex(SignedRecord.from_json(r).record.digest(domain)) for r in records]


def test_signing_offline_with_a_key_file_and_the_domain_given(tmp_path: Path, api: str) -> None:
    key_file = tmp_path / "platform.key"
    key_file.write_text(DEV_PLATFORM_KEY + "\n")
    key_file.chmod(0o600)
    online = bindledger("sign", "--api", api, stdin=json.dumps(
        {**documents("cli-offline")[1], "timestamp": 1_700_000_000}), **ENV)
    with LedgerClient(api, None) as client:
        chain_id, contract = client.domain().chain_id, client.domain().verifying_contract
    offline = bindledger("sign", "--key-file", str(key_file), "--chain-id", str(chain_id),
                         "--contract", contract, stdin=json.dumps(
                             {**documents("cli-offline")[1], "timestamp": 1_700_000_000}),
                         ref_secret=DEV_REF_SECRET)

    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout) == json.loads(online.stdout)


def test_a_malformed_record_exits_2_naming_the_member_without_quoting_the_value(
        api: str) -> None:
    bad_phone = {**documents("cli-bad")[1], "phone": "12345"}
    number_phone = {**documents("cli-bad")[1], "phone": 13800138000}

    for doc, reason in [
        (bad_phone, "not a valid phone number"),
        (number_phone, "Verification.phone must be a string"),
        ({"type": "Access"}, "record type must be one of"),
        ({}, "record type must be one of"),
    ]:
        done = in_process("sign", "--api", api, stdin=json.dumps(doc), **ENV)
        message = " ".join(done.stderr.split())
        assert done.exit_code == 2, (doc, done.output)
        assert reason in message, message
        assert "12345" not in message and "13800138000" not in message
        assert "Traceback" not in done.stderr

    unreadable = in_process("sign", "--api", api, stdin="{not json", **ENV)
    no_key = in_process("sign", "--api", api, stdin=json.dumps(documents("x")[1]),
                        ref_secret=DEV_REF_SECRET)
    no_secret = in_process("sign", "--api", api, stdin=json.dumps(documents("x")[1]),
                           platform_key=DEV_PLATFORM_KEY)
    assert (unreadable.exit_code, no_key.exit_code, no_secret.exit_code) == (2, 2, 2)
    assert "standard input is not JSON" in unreadable.stderr
    assert "BINDLEDGER_PLATFORM_KEY holds no platform key" in " ".join(no_key.stderr.split())
    assert "needs the consortium's reference secret" in " ".join(no_secret.stderr.split())


def test_submit_exits_1_when_refused_2_without_an_api_key_and_3_when_unreachable(
        api: str) -> None:
    signed = in_process("sign", "--api", api, stdin=json.dumps(documents("cli-refused")[1]),
                        **ENV).stdout
    other_platform = json.loads(signed)
    other_platform["signature"] = "0x" + "11" * 65

    refused = in_process("submit", "--api", api, stdin=json.dumps(other_platform), **ENV)
    no_api_key = in_process("submit", "--api", api, stdin=signed, platform_key=DEV_PLATFORM_KEY)
    unreachable = in_process("submit", "--api", f"http://127.0.0.1:{free_port()}",
                             stdin=signed, **ENV)

    assert refused.exit_code == 1, refused.stderr
    assert "refused (422" in refused.stderr and "Traceback" not in refused.stderr
    assert no_api_key.exit_code == 2
    assert "BINDLEDGER_API_KEY holds no API key" in " ".join(no_api_key.stderr.split())
    assert unreachable.exit_code == 3
    assert "ConnectError" in unreachable.stderr
    assert DEV_PLATFORM_API_KEY not in refused.stderr + unreachable.stderr


def test_no_option_takes_a_key_or_secret_itself_only_where_to_read_it() -> None:
    sign_help = in_process("sign", "--help").stdout
    submit_help = in_process("submit", "--help").stdout

    for option in ("--key-env", "--key-file", "--secret-env", "--secret-file", "--api",
                   "--chain-id", "--contract"):
        assert option in sign_help
    for option in ("--api", "--api-key-env", "--rules"):
        assert option in submit_help
    offered = set(re.findall(r"--[a-z-]+", sign_help + submit_help))
    assert not offered & {"--key", "--private-key", "--secret", "--ref-secret", "--api-key"}


class _NotBindLedger(BaseHTTPRequestHandler):
    """Some other HTTP service: answers 200 with JSON of its own to everything."""

    def _answer(self) -> None:
        body = b'{"hello": "world"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_api_that_is_not_bindledgers_exits_3_saying_so() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotBindLedger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        signed = in_process("sign", "--api", url, stdin=json.dumps(documents("x")[1]), **ENV)
        submitted = in_process("submit", "--api", url, stdin=json.dumps(
            {**documents("x")[1], "subject": "0x" + "5a" * 32, "phone": "0x" + "5b" * 32,
             "platform": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "prev": "0x" + "00" * 32,
             "timestamp": 1, "signature": "0x" + "11" * 65}), **ENV)
    finally:
        server.shutdown()
        server.server_close()

    assert (signed.exit_code, submitted.exit_code) == (3, 3)
    assert "GET /healthz: the answer is not BindLedger's" in " ".join(signed.stderr.split())
    assert "the answer is not BindLedger's" in " ".join(submitted.stderr.split())
