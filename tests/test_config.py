"""Settings: platforms and regulators parse from JSON, and bad values are named."""

from __future__ import annotations

import json

import pytest

from ledger.config import DEV_PLATFORM_KEY, DEV_REGULATOR_KEY, ConfigError, Settings


def test_the_development_defaults_name_one_platform_and_one_regulator() -> None:
    settings = Settings()
    assert [p.name for p in settings.platform_list] == ["demo-lender"]
    assert [r.name for r in settings.regulator_list] == ["demo-regulator"]
    assert settings.uses_dev_secrets


@pytest.mark.parametrize(("value", "message"), [
    ("not json", "BINDLEDGER_PLATFORMS is not a list of platforms"),
    (json.dumps([{"name": "a"}]), "BINDLEDGER_PLATFORMS is not a list of platforms"),
    (json.dumps([{"name": "a", "key": "0x12", "apiKey": "k"}]), "platform a: not a valid"),
])
def test_malformed_platforms_are_refused_naming_the_setting(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _ = Settings(platforms=value).platform_list


def test_a_regulator_may_not_share_a_platforms_api_key() -> None:
    regulators = json.dumps([{"name": "r", "key": DEV_REGULATOR_KEY, "apiKey": "shared"}])
    platforms = json.dumps([{"name": "p", "key": DEV_PLATFORM_KEY, "apiKey": "shared"}])
    with pytest.raises(ConfigError, match="share an API key"):
        _ = Settings(platforms=platforms, regulators=regulators).regulator_list
