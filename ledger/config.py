"""Configuration from environment variables (prefix BINDLEDGER_) or a `.env` file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.core.refs import check_secret
from ledger.errors import LedgerValueError

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
DEV_REGULATOR_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
DEV_REGULATOR_API_KEY = "dev-regulator-key"
DEV_REGULATORS = json.dumps(
    [{"name": "demo-regulator", "key": DEV_REGULATOR_KEY, "apiKey": DEV_REGULATOR_API_KEY}]
)


class ConfigError(LedgerValueError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class Party:
    """Someone with an account on chain and an API key: a name, the account, the key."""

    name: str
    account: LocalAccount
    api_key: str

    @property
    def address(self) -> str:
        return str(self.account.address)


class Platform(Party):
    """A lender: signs its records and anchors its log's heads with its account."""


class Regulator(Party):
    """A regulator: its account holds REGULATOR_ROLE (freezes)."""


P = TypeVar("P", bound=Party)


def _parties(kind: type[P], text: str, setting: str) -> list[P]:
    """Parse a JSON list of {"name", "key", "apiKey"}; raises ConfigError naming the setting."""
    what = kind.__name__.lower()
    try:
        return [
            kind(str(e["name"]), _account(e["key"], f"{what} {e['name']}"), str(e["apiKey"]))
            for e in json.loads(text)
        ]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"{setting} is not a list of {what}s: {exc}") from None


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
        description="SQLite database file (default: in memory on the embedded chain, "
        "bindledger.sqlite3 otherwise)",
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
    regulators: str = Field(
        DEV_REGULATORS,
        description='JSON list of regulators: [{"name": ..., "key": "0x...", "apiKey": ...}]; '
        "each key's account is granted REGULATOR_ROLE at start",
    )
    anchor_every_records: int = Field(
        256, ge=1, description="seal and anchor a head once this many records are pending"
    )
    anchor_every_seconds: float = Field(
        30.0, gt=0, description="seal and anchor pending records at least this often (seconds)"
    )

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
        if len({p.api_key for p in platforms}) != len(platforms):
            raise ConfigError("two platforms share an API key")
        return platforms

    @cached_property
    def relayer_account(self) -> LocalAccount:
        return _account(self.relayer_key, "relayer_key")

    @cached_property
    def regulator_list(self) -> list[Regulator]:
        regulators = _parties(Regulator, self.regulators, "BINDLEDGER_REGULATORS")
        keys = [r.api_key for r in regulators] + [p.api_key for p in self.platform_list]
        if len(set(keys)) != len(keys):
            raise ConfigError("two regulators or platforms share an API key")
        return regulators

    @property
    def uses_dev_secrets(self) -> bool:
        return (
            self.ref_secret == DEV_REF_SECRET
            or DEV_PLATFORM_KEY in self.platforms
            or DEV_REGULATOR_KEY in self.regulators
        )


def describe_settings() -> str:
    """One line per setting, for `--help`: its environment variable and what it does."""
    lines = ["Configuration (environment or .env):"]
    for name, field in Settings.model_fields.items():
        lines.append(f"BINDLEDGER_{name.upper()}: {field.description}")
    return "\n\n".join(lines)


def _account(key: str, what: str) -> LocalAccount:
    try:
        account: LocalAccount = Account.from_key(key)
        return account
    except (ValueError, TypeError):
        raise ConfigError(f"{what}: not a valid private key") from None
