"""`bindledger sign` and `bindledger submit`: the client for shell users.

Keys and secrets come from environment variables or files, never from arguments (which `ps`
shows every user of the machine), and are never printed. Exit codes: 0 done, 1 the server
refused a record (its reason printed), 2 the input, key or secret cannot be read or the
record is malformed, 3 the server cannot be reached (after retries) or does not answer as
BindLedger's API does.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ledger.client.client import LedgerClient, Stored
from ledger.client.errors import ClientRejected, ServerUnavailable, UnexpectedAnswer
from ledger.client.references import References
from ledger.client.signing import PlatformKey
from ledger.core.encoding import HexDecodeError, parse_address, to_hex
from ledger.core.records import Domain, SignedRecord
from ledger.errors import LedgerError

EXIT_DONE, EXIT_REFUSED, EXIT_UNREADABLE, EXIT_UNAVAILABLE = 0, 1, 2, 3
STDIN = "-"


class CommandFailed(Exception):
    """A command ends with `code` after printing `message` (to stderr)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SignOptions:
    source: str  # a file, or "-" for standard input
    key_env: str
    key_file: Path | None
    secret_env: str
    secret_file: Path | None
    api: str | None
    chain_id: int | None
    contract: str | None


def sign_command(options: SignOptions, out: TextIO) -> None:
    """Sign the records of a JSON document (one object, or an array) and write them signed,
    in the same shape, to `out`. Records of one subject in one array chain in their order
    when they name no `prev`. Raises CommandFailed."""
    documents, single = _documents(options.source)
    key = _key(options.key_env, options.key_file)
    references = _references(options.secret_env, options.secret_file)
    signed: list[dict[str, Any]] = []
    with LedgerClient(options.api or _NO_API, None, key=key, references=references) as client:
        if options.api is None:
            client.use_domain(_domain(options.chain_id, options.contract))
        for index, document in enumerate(documents):
            try:
                signed.append(client.sign(document).to_json())
            except (ServerUnavailable, UnexpectedAnswer) as exc:
                raise CommandFailed(f"cannot read the deployment's domain: {exc}",
                                    EXIT_UNAVAILABLE) from None
            except ClientRejected as exc:
                raise CommandFailed(f"cannot read the deployment's domain: {exc}",
                                    EXIT_REFUSED) from None
            except LedgerError as exc:
                where = "" if single else f"record {index}: "
                raise CommandFailed(f"{where}{exc}", EXIT_UNREADABLE) from None
    out.write(json.dumps(signed[0] if single else signed, indent=2) + "\n")


@dataclass(frozen=True)
class SubmitOptions:
    source: str
    api: str
    api_key_env: str
    rules: bool


def submit_command(options: SubmitOptions, out: TextIO) -> None:
    """Send signed records (one object, or an array) to the API: an array in batches of up
    to 100 (each all or none), or with `rules` one by one through the contract. Writes one
    line per record stored: its id, hash and `created` or `stored-before`. Raises
    CommandFailed."""
    documents, _ = _documents(options.source)
    records: list[SignedRecord] = []
    for index, document in enumerate(documents):
        try:
            records.append(SignedRecord.from_json(document))
        except LedgerError as exc:
            raise CommandFailed(f"record {index}: {exc}", EXIT_UNREADABLE) from None
    api_key = os.environ.get(options.api_key_env, "").strip()
    if not api_key:
        raise CommandFailed(f"environment variable {options.api_key_env} holds no API key",
                            EXIT_UNREADABLE)
    with LedgerClient(options.api, api_key) as client:
        try:
            if options.rules or len(records) == 1:
                for signed in records:
                    _print_stored(out, [client.submit(signed, rules=options.rules)])
            else:
                _print_stored(out, client.submit_batch(records))
        except ClientRejected as exc:
            raise CommandFailed(str(exc), EXIT_REFUSED) from None
        except (ServerUnavailable, UnexpectedAnswer) as exc:
            raise CommandFailed(str(exc), EXIT_UNAVAILABLE) from None


def _print_stored(out: TextIO, stored: list[Stored]) -> None:
    out.writelines(f"{s.id}\t{to_hex(s.record_hash)}\t"
                  f"{'stored-before' if s.already_stored else 'created'}\n" for s in stored)
    out.flush()


# Never contacted: signing offline reads the domain from the options.
_NO_API = "http://127.0.0.1:9"


def _documents(source: str) -> tuple[list[Any], bool]:
    """The JSON documents of `source` and whether it held a single object."""
    try:
        text = sys.stdin.read() if source == STDIN else Path(source).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandFailed(f"cannot read {source}: {exc}", EXIT_UNREADABLE) from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandFailed(f"{_name(source)} is not JSON: {exc}", EXIT_UNREADABLE) from None
    if isinstance(parsed, dict):
        return [parsed], True
    if isinstance(parsed, list) and parsed and all(isinstance(d, dict) for d in parsed):
        return parsed, False
    raise CommandFailed(f"{_name(source)} must hold a JSON object or a non-empty array of them",
                        EXIT_UNREADABLE)


def _name(source: str) -> str:
    return "standard input" if source == STDIN else source


def _key(env: str, file: Path | None) -> PlatformKey:
    try:
        return PlatformKey.from_file(file) if file is not None else PlatformKey.from_env(env)
    except LedgerError as exc:
        raise CommandFailed(str(exc), EXIT_UNREADABLE) from None


def _references(env: str, file: Path | None) -> References | None:
    """The reference secret, from a file or the environment; None when neither holds one
    (then only documents that hold references already can be signed)."""
    try:
        secret = file.read_bytes().strip() if file is not None else os.environ.get(env, "")
    except OSError as exc:
        raise CommandFailed(f"cannot read {file}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    if not secret:
        return None
    try:
        return References(secret)
    except LedgerError as exc:
        raise CommandFailed(str(exc), EXIT_UNREADABLE) from None


def _domain(chain_id: int | None, contract: str | None) -> Domain:
    if chain_id is None or contract is None:
        raise CommandFailed("give the deployment's domain: --api URL, or --chain-id and "
                            "--contract", EXIT_UNREADABLE)
    try:
        return Domain(chain_id, parse_address(contract, "--contract"))
    except HexDecodeError as exc:
        raise CommandFailed(str(exc), EXIT_UNREADABLE) from None
