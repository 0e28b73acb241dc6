"""Configuration from environment variables (prefix BINDLEDGER_) or a `.env` file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.core.records import Purpose
from ledger.core.refs import check_secret
from ledger.errors import LedgerValueError
from ledger.record_times import DEFAULT_MAX_CLOCK_SKEW_SECONDS

# The well-known development keys of anvil and Hardhat (mnemonic "test test ... junk").
# Public knowledge: fine for a laptop, never for a deployment; `bindledger serve` warns.
DEV_ADMIN_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_PLATFORM_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DEV_PLATFORM_API_KEY = "dev-platform-key"
DEV_REF_SECRET = "bindledger-development-secret-not-for-production"
DEV_PLATFORMS = json.dumps(
    [{"name": "demo-lender", "key": DEV_PLATFORM_KEY, "apiKey": DEV_PLATFORM_API_KEY}]
)
# anvil's development accounts #3 and #4: the relayer of rule records and a regulator.
DEV_RELAYER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
# anvil's development accounts #6 to #9: further relayers, one per API process (serve --workers).
# (#5 signs the access log's heads: an account sends for one purpose only, so that nonces of
# two senders never meet.)
DEV_RELAYER_KEYS = json.dumps([
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
])
DEV_REGULATOR_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
DEV_REGULATOR_API_KEY = "dev-regulator-key"
DEV_REGULATORS = json.dumps(
    [{"name": "demo-regulator", "key": DEV_REGULATOR_KEY, "apiKey": DEV_REGULATOR_API_KEY}]
)
# An operator of the service: needs only an API key (admins hold no chain account).
DEV_ADMIN_API_KEY = "dev-admin-key"
DEV_ADMINS = json.dumps([{"name": "demo-operator", "apiKey": DEV_ADMIN_API_KEY}])
# anvil's development account #5: signs and anchors BindLedger's access log.
DEV_ACCESS_LOG_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"
# The evidence vault's key-encryption key, as "<key id>:<64 hex digits>".
DEV_VAULT_KEY = "dev-1:" + "5e" * 32


class ConfigError(LedgerValueError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class KeyHolder:
    """Whoever holds an API key of this deployment. The key stays out of `repr`, so that a
    holder written to a log or an error message does not leak it."""

    ROLE: ClassVar[str]  # "platform", "regulator" or "admin": what the key may do

    name: str
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class Party(KeyHolder):
    """A key holder with an account on chain, which signs its records or transactions."""

    account: LocalAccount = field(repr=False)

    @property
    def address(self) -> str:
        return str(self.account.address)


class Platform(Party):
    """A lender: signs its records and anchors its log's heads with its account."""

    ROLE = "platform"


class Regulator(Party):
    """A regulator: its account holds REGULATOR_ROLE (freezes)."""

    ROLE = "regulator"


class Admin(KeyHolder):
    """An operator of the service: anchors now and reads the service's state. Holds no chain
    account (not to be confused with `admin_key`, the contract's governance account)."""

    ROLE = "admin"


P = TypeVar("P", bound=Party)
H = TypeVar("H", bound=KeyHolder)


def _entries(
    text: str, setting: str, what: str, build: Callable[[dict[str, Any]], H]
) -> list[H]:
    """Parse a JSON list and build one holder from each entry; raises ConfigError naming the
    setting (never quoting the value: it holds secrets)."""
    try:
        entries = json.loads(text)
        if not isinstance(entries, list):
            raise TypeError(f"expected a JSON list, got {type(entries).__name__}")
        return [build(e) for e in entries]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"{setting} is not a list of {what}s: {exc}") from None


def _parties(kind: type[P], text: str, setting: str) -> list[P]:
    """Parse a JSON list of {"name", "key", "apiKey"}; raises ConfigError naming the setting."""
    what = kind.ROLE

    def build(e: dict[str, Any]) -> P:
        account = _account(e["key"], f"{what} {e['name']}")
        return kind(name=str(e["name"]), api_key=str(e["apiKey"]), account=account)

    return _entries(text, setting, what, build)


def _admins(text: str) -> list[Admin]:
    """Parse a JSON list of {"name", "apiKey"}; raises ConfigError naming BINDLEDGER_ADMINS."""

    def build(e: dict[str, Any]) -> Admin:
        return Admin(name=str(e["name"]), api_key=str(e["apiKey"]))

    return _entries(text, "BINDLEDGER_ADMINS", "admin", build)


def check_unique_api_keys(holders: Iterable[KeyHolder]) -> None:
    """An API key names one holder of one role: a shared key would make the caller ambiguous
    (and a platform's key could freeze, or a regulator's write). Raises ConfigError naming
    the two holders, never the key."""
    seen: dict[str, KeyHolder] = {}
    for holder in holders:
        first = seen.setdefault(holder.api_key, holder)
        if first is not holder:
            raise ConfigError(
                f"{first.ROLE} {first.name!r} and {holder.ROLE} {holder.name!r} share an API "
                "key: give each platform, regulator and admin its own"
            )


class Settings(BaseSettings):
    """Every option can be set as BINDLEDGER_<NAME> in the environment or in `.env`."""

    model_config = SettingsConfigDict(env_prefix="BINDLEDGER_", env_file=".env", extra="ignore")

    chain: str = Field(
        "embedded",
        description="'embedded' for an in-process eth-tester chain, or a JSON-RPC URL",
    )
    chain_id: int | None = Field(
        None, description="refuse to start unless the node reports this chain id"
    )
    contract: str | None = Field(
        None, description="BindLedger contract address (deployed at start when unset)"
    )
    database: str | None = Field(
        None,
        description="SQLite database file, or a postgresql://user@host:port/name URL for "
        "several processes (default: in memory on the embedded chain, bindledger.sqlite3 "
        "otherwise)",
    )
    ref_secret: str = Field(
        DEV_REF_SECRET, description="secret key of phone and subject references (HMAC-SHA256)"
    )
    admin_key: str = Field(DEV_ADMIN_KEY, description="private key of the contract's governance")
    platforms: str = Field(
        DEV_PLATFORMS,
        description='JSON list of platforms: [{"name": ..., "key": "0x...", "apiKey": ...}]',
    )
    relayer_key: str = Field(
        DEV_RELAYER_KEY,
        description="private key of the account that relays platform-signed rule records to "
        "the contract and pays their gas (needs no role; one per API instance)",
    )
    relayer_keys: str = Field(
        DEV_RELAYER_KEYS,
        description="JSON list of further relayer private keys, for several API processes on "
        "one PostgreSQL database: each process relays from an account no other holds",
    )
    regulators: str = Field(
        DEV_REGULATORS,
        description='JSON list of regulators: [{"name": ..., "key": "0x...", "apiKey": ...}]; '
        "each key's account is granted REGULATOR_ROLE at start",
    )
    admins: str = Field(
        DEV_ADMINS,
        description='JSON list of admins, the service\'s operators (anchor now, read the status '
        'of every platform\'s log; no chain account): [{"name": ..., "apiKey": ...}]',
    )
    vault_key: str = Field(
        DEV_VAULT_KEY,
        description="key-encryption key of the evidence vault, '<key id>:<64 hex digits>' "
        "(AES-256); the subjects' data keys are wrapped by it",
    )
    vault_retired_keys: str = Field(
        "",
        description="earlier vault keys, comma-separated '<key id>:<hex>': data keys still "
        "wrapped by one are re-wrapped by vault_key at start or by `bindledger vault rotate`",
    )
    access_log_key: str = Field(
        DEV_ACCESS_LOG_KEY,
        description="private key of the account that signs and anchors BindLedger's access "
        "log (who read which subject's data)",
    )
    consent_first: list[str] = Field(
        default_factory=list,
        description='purposes whose consent must be recorded before any processing, as JSON, '
        'e.g. ["IDENTITY_VERIFICATION", "RISK_SHARING"]: a route of such a purpose stops a '
        "subject with no consent for it as it stops a withdrawn one",
    )
    retention_days: dict[str, int] = Field(
        default_factory=dict,
        description='days a subject\'s evidence is kept once each purpose it served ended, as '
        'JSON, e.g. {"LENDING": 1825, "CONTACT": 365}; then the anchoring worker erases it '
        "(reason RETENTION). A purpose not named keeps it until an erasure is requested",
    )
    anchor_every_records: int = Field(
        256, ge=1, description="seal and anchor a head once this many records are pending"
    )
    anchor_every_seconds: float = Field(
        30.0, gt=0, description="seal and anchor pending records at least this often (seconds)"
    )
    confirmations: int | None = Field(
        None,
        ge=0,
        description="blocks that must follow an anchor's block before it is final and its "
        "proofs are served (default: 0 on the embedded chain, 2 on a JSON-RPC chain; 0 suits "
        "Besu/QBFT's immediate finality)",
    )
    anchor_replace_after_seconds: float = Field(
        60.0,
        gt=0,
        description="an anchor transaction unmined this long is replaced: same nonce, higher fees",
    )
    max_clock_skew_seconds: int = Field(
        DEFAULT_MAX_CLOCK_SKEW_SECONDS,
        ge=0,
        le=86_400,
        description="how far (seconds) a record written to the log only may be timestamped "
        "after the ledger's clock (422 beyond it; rule records are judged by the contract's "
        "record time window instead)",
    )
    risk_model: str | None = Field(
        None,
        description="risk model file (`bindledger risk train`) that POST /v1/risk/releases "
        "releases and POST /v1/subjects/{ref}/risk scores with",
    )
    health_degraded_after_seconds: float = Field(
        30.0,
        gt=0,
        description="/healthz says degraded (503) once anchoring has failed, or a head has "
        "waited for a final anchor, this long",
    )

    @field_validator("consent_first")
    @classmethod
    def _consent_first_names_purposes(cls, value: list[str]) -> list[str]:
        names = {p.name for p in Purpose}
        if unknown := [v for v in value if v not in names]:
            raise ValueError(
                f"BINDLEDGER_CONSENT_FIRST: {unknown} are not purposes; expected some of "
                f"{sorted(names)}"
            )
        return value

    @field_validator("retention_days")
    @classmethod
    def _retention_names_purposes(cls, value: dict[str, int]) -> dict[str, int]:
        names = {p.name for p in Purpose}
        for purpose, days in value.items():
            if purpose not in names or isinstance(days, bool) or days < 0:
                raise ValueError(
                    f"BINDLEDGER_RETENTION_DAYS: {purpose!r} must be one of {sorted(names)} "
                    "with a number of days >= 0"
                )
        return value

    @cached_property
    def retention(self) -> dict[Purpose, int]:
        """The retention period of each purpose that has one, in days."""
        return {Purpose[name]: days for name, days in self.retention_days.items()}

    @field_validator("ref_secret")
    @classmethod
    def _secret_long_enough(cls, value: str) -> str:
        check_secret(value.encode())
        return value

    @cached_property
    def admin_account(self) -> LocalAccount:
        return _account(self.admin_key, "admin_key")

    @cached_property
    def platform_list(self) -> list[Platform]:
        platforms = _parties(Platform, self.platforms, "BINDLEDGER_PLATFORMS")
        check_unique_api_keys(platforms)
        return platforms

    @cached_property
    def relayer_account(self) -> LocalAccount:
        return _account(self.relayer_key, "relayer_key")

    @cached_property
    def relayer_accounts(self) -> list[LocalAccount]:
        """The relayer account and the further ones of BINDLEDGER_RELAYER_KEYS, each once."""
        try:
            keys = json.loads(self.relayer_keys)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"BINDLEDGER_RELAYER_KEYS is not a JSON list of keys: {exc}") from None
        if not isinstance(keys, list):
            raise ConfigError("BINDLEDGER_RELAYER_KEYS is not a JSON list of keys")
        accounts = {self.relayer_account.address: self.relayer_account}
        for number, key in enumerate(keys):
            account = _account(str(key), f"relayer key {number} of BINDLEDGER_RELAYER_KEYS")
            accounts.setdefault(account.address, account)
        return list(accounts.values())

    @cached_property
    def regulator_list(self) -> list[Regulator]:
        regulators = _parties(Regulator, self.regulators, "BINDLEDGER_REGULATORS")
        check_unique_api_keys([*self.platform_list, *regulators])
        return regulators

    @cached_property
    def admin_list(self) -> list[Admin]:
        """The admins; reading it checks that no two holders of any role share an API key."""
        admins = _admins(self.admins)
        check_unique_api_keys([*self.platform_list, *self.regulator_list, *admins])
        return admins

    @property
    def uses_dev_secrets(self) -> bool:
        return (
            self.ref_secret == DEV_REF_SECRET
            or DEV_PLATFORM_KEY in self.platforms
            or DEV_REGULATOR_KEY in self.regulators
            or json.dumps(DEV_ADMIN_API_KEY) in self.admins
            or self.vault_key == DEV_VAULT_KEY
        )


def describe_settings() -> str:
    """One line per setting, for `--help`: its environment variable and what it does."""
    lines = ["Configuration (environment or .env):"]
    for name, info in Settings.model_fields.items():
        lines.append(f"BINDLEDGER_{name.upper()}: {info.description}")
    return "\n\n".join(lines)


def _account(key: str, what: str) -> LocalAccount:
    try:
        account: LocalAccount = Account.from_key(key)
        return account
    except (ValueError, TypeError):
        raise ConfigError(f"{what}: not a valid private key") from None
