"""Chain errors are safe and honest.

Safe: a JSON-RPC URL is shown as scheme, host and port only, in errors, logs, `describe()` and
the command line, because providers put API keys in its user info, path and query.
Honest: a node that does not answer raises ChainUnreachableError, never a revert
(TransactionFailedError) or a rule refusal, and verification then concludes nothing: it raises
"cannot check: chain unreachable" (`bindledger verify` exits 3) instead of failing a check.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner
from web3.exceptions import ContractLogicError, Web3RPCError

from ledger.chain.client import (
    ChainError,
    ChainUnreachableError,
    RpcChain,
    TransactionFailedError,
    call_failure,
)
from ledger.chain.redact import UNPARSABLE_URL, redact_text, redact_url
from ledger.cli import app
from ledger.config import Settings
from ledger.core.bundle import ProofBundle
from ledger.core.records import Binding, BindingAction
from ledger.core.timeline import Timeline
from ledger.rules import rules_for
from ledger.runtime import open_ledger
from ledger.store.sqlite import SqliteStore
from ledger.timeline import verify_timeline
from ledger.verify import verify_bundle
from tests.support.anvil import free_port
from tests.support.chain_down import DownSite, leaks, site_with_node_down, with_secrets
from tests.support.flaky_node import flaky_node

CLEAN_ENV: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BINDLEDGER_")}


# -- redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "shown"), [
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("https://mainnet.example.io/v3/0123456789abcdef", "https://mainnet.example.io"),
    ("https://node.example/?apikey=s3cret&x=1#frag", "https://node.example"),
    ("https://user:pa55@node.example:8443/rpc", "https://node.example:8443"),
    ("HTTPS://Node.Example/key", "https://node.example"),
    ("wss://ws.example/ws/v3/key", "wss://ws.example"),
    ("http://[::1]:8545/key", "http://[::1]:8545"),
    ("embedded", "embedded"),
    ("not a url with s3cret", UNPARSABLE_URL),
    ("http://node.example:notaport/key", UNPARSABLE_URL),
])
def test_a_url_is_shown_as_scheme_host_and_port(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_urls_and_their_secret_parts_are_redacted_in_library_messages() -> None:
    url = "http://operator:pw@127.0.0.1:8545/?apikey=s3cret"
    message = ("HTTPConnectionPool(host='127.0.0.1', port=8545): Max retries exceeded with url: "
               "/?apikey=s3cret (Caused by NewConnectionError(...)); see " + url)
    redacted = redact_text(message, url)
    assert "s3cret" not in redacted and "operator:pw" not in redacted
    assert "host='127.0.0.1', port=8545" in redacted and "see http://127.0.0.1:8545" in redacted


def test_describe_names_the_node_without_its_secrets(anvil_url: str) -> None:
    chain = RpcChain(with_secrets(anvil_url))
    assert chain.describe() == f"JSON-RPC node at {anvil_url} (chain id 31337)"
    assert chain.node == anvil_url


def test_library_debug_logs_do_not_name_the_url(anvil_url: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        chain = RpcChain(with_secrets(anvil_url))
        chain.web3.eth.get_block("latest")
    assert "Making request HTTP" in caplog.text  # web3 logged the requests ...
    assert leaks(caplog.text) == []  # ... without the URL's secrets


# -- a node that does not answer -----------------------------------------------------------


def test_a_node_that_does_not_answer_is_unreachable_named_by_host_only() -> None:
    url = with_secrets(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ChainUnreachableError) as raised:
        RpcChain(url)
    message = str(raised.value)
    assert message.startswith(f"no Ethereum JSON-RPC node answers at {redact_url(url)}")
    assert leaks(message) == []
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize("error", [
    requests.exceptions.ConnectionError(
        "HTTPConnectionPool(host='h', port=1): Max retries exceeded with url: /?apikey=k3y"),
    requests.exceptions.ReadTimeout("HTTPConnectionPool(host='h', port=1): Read timed out."),
    requests.exceptions.HTTPError("429 Client Error: Too Many Requests for url: http://h/?apikey=k3y"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("timed out"),
])
def test_a_connection_failure_is_never_a_revert(error: Exception) -> None:
    failure = call_failure(error)
    assert type(failure) is ChainUnreachableError
    assert "k3y" not in str(failure) and "chain unreachable" in str(failure)


def test_only_a_revert_is_a_transaction_failure() -> None:
    reverted = call_failure(ContractLogicError("execution reverted", data="0x08c379a0"))
    assert isinstance(reverted, TransactionFailedError) and reverted.revert_data == b"\x08\xc3\x79\xa0"
    refused = call_failure(Web3RPCError("insufficient funds for gas * price + value"))
    assert type(refused) is ChainError  # the node answered, but not with a revert


def test_a_connection_reset_while_estimating_gas_is_not_reported_as_a_revert(
    anvil_url: str,
) -> None:
    """The issue's case: a reset connection came back as "call would revert"."""
    broken: set[str] = set()
    with flaky_node(anvil_url, broken) as url:
        chain = RpcChain(url)
        settings = Settings(chain=url)
        ledger = open_ledger(settings, chain=chain, store=SqliteStore(":memory:"))
        call = ledger.contract.anchor_call(1, b"\x01" * 32, [])
        broken.add("eth_estimateGas")
        with pytest.raises(ChainUnreachableError) as raised:
            chain.sign_call(settings.platform_list[0].account, call)
    assert "revert" not in str(raised.value)
    assert str(raised.value) == f"chain unreachable: no answer from {url} (ConnectionError)"


def test_a_connection_reset_during_a_rule_check_is_not_a_refusal(anvil_url: str) -> None:
    broken: set[str] = set()
    with flaky_node(anvil_url, broken) as url:
        settings = Settings(chain=url)
        ledger = open_ledger(settings, chain=RpcChain(url), store=SqliteStore(":memory:"))
        platform = settings.platform_list[0]
        subject = ledger.refs.subject("borrower-reset")
        broken.add("eth_call")

        def build(prev: bytes) -> Binding:
            return Binding(platform=platform.address, subject=subject, prev=prev,
                           timestamp=ledger.now(), action=BindingAction.BIND,
                           phone=ledger.refs.phone("13800138000"), account=bytes(32), factors=3)

        with pytest.raises(ChainUnreachableError):
            rules_for(ledger).sign_and_submit(platform, subject, build)
    assert ledger.store.records_of_subject(platform.address, subject) == []


# -- verification with the node down ---------------------------------------------------------


@pytest.fixture(scope="module")
def down() -> Iterator[DownSite]:
    with site_with_node_down() as site:
        yield site


def test_verifying_a_bundle_raises_cannot_check(down: DownSite) -> None:
    bundle = ProofBundle.from_json(down.bundle)
    with pytest.raises(ChainUnreachableError) as raised:
        verify_bundle(bundle, down.ledger.chain)
    assert str(raised.value) == (
        f"cannot check: chain unreachable: no answer from {down.node} (ConnectionError)")


def test_verifying_a_timeline_raises_cannot_check(down: DownSite) -> None:
    with pytest.raises(ChainUnreachableError, match="^cannot check: chain unreachable"):
        verify_timeline(Timeline.from_json(down.timeline), down.ledger.chain)


def test_the_cli_exits_3_without_naming_the_urls_secrets(down: DownSite, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(ProofBundle.from_json(down.bundle).dumps())
    result = CliRunner(env=CLEAN_ENV).invoke(app, ["verify", str(path), "--chain",
                                                   down.secret_url])
    assert result.exit_code == 3
    assert f"no Ethereum JSON-RPC node answers at {down.node}" in " ".join(result.stderr.split())
    assert leaks(result.output + result.stderr) == []


@pytest.mark.parametrize("command", ["serve", "verify", "deploy", "demo", "report"])
def test_help_never_shows_the_configured_url(command: str) -> None:
    env = {**CLEAN_ENV, "BINDLEDGER_CHAIN": with_secrets("http://127.0.0.1:8545")}
    result = CliRunner(env=env).invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert leaks(result.output) == []
