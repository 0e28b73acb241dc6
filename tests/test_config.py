"""Settings: platforms, regulators and admins parse from JSON, bad values are named, and an
API key belongs to one holder of one role."""

from __future__ import annotations

import json

import pytest

from ledger.config import (
    DEV_ADMIN_API_KEY,
    DEV_PLATFORM_KEY,
    DEV_REGULATOR_KEY,
    Admin,
    ConfigError,
    Settings,
    describe_settings,
)

PLATFORM = {"name": "p", "key": DEV_PLATFORM_KEY, "apiKey": "platform-key"}
REGULATOR = {"name": "r", "key": DEV_REGULATOR_KEY, "apiKey": "regulator-key"}
ADMIN = {"name": "a", "apiKey": "admin-key"}


def test_the_development_defaults_name_one_platform_one_regulator_and_one_admin() -> None:
    settings = Settings()
    assert [p.name for p in settings.platform_list] == ["demo-lender"]
    assert [r.name for r in settings.regulator_list] == ["demo-regulator"]
    assert settings.admin_list == [Admin("demo-operator", DEV_ADMIN_API_KEY)]
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


@pytest.mark.parametrize(("value", "message"), [
    ("not json", "BINDLEDGER_ADMINS is not a list of admins"),
    (json.dumps({"name": "a", "apiKey": "k"}), "BINDLEDGER_ADMINS is not a list of admins"),
    (json.dumps([{"name": "a"}]), "BINDLEDGER_ADMINS is not a list of admins: 'apiKey'"),
    (json.dumps(["a"]), "BINDLEDGER_ADMINS is not a list of admins"),
])
def test_malformed_admins_are_refused_naming_the_setting(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _ = Settings(admins=value).admin_list


def test_admins_need_a_name_and_an_api_key_only() -> None:
    settings = Settings(admins=json.dumps([ADMIN, {"name": "b", "apiKey": "other-key"}]))
    assert settings.admin_list == [Admin("a", "admin-key"), Admin("b", "other-key")]


@pytest.mark.parametrize(("platforms", "regulators", "admins", "holders"), [
    ([PLATFORM, {**PLATFORM, "name": "q"}], [REGULATOR], [ADMIN], "platform 'p' and platform 'q'"),
    ([PLATFORM], [{**REGULATOR, "apiKey": "platform-key"}], [ADMIN],
     "platform 'p' and regulator 'r'"),
    ([PLATFORM], [REGULATOR], [{**ADMIN, "apiKey": "platform-key"}],
     "platform 'p' and admin 'a'"),
    ([PLATFORM], [REGULATOR], [{**ADMIN, "apiKey": "regulator-key"}],
     "regulator 'r' and admin 'a'"),
    ([PLATFORM], [REGULATOR], [ADMIN, {**ADMIN, "name": "b"}], "admin 'a' and admin 'b'"),
])
def test_an_api_key_shared_by_two_holders_of_any_roles_is_refused(
        platforms: list[dict[str, str]], regulators: list[dict[str, str]],
        admins: list[dict[str, str]], holders: str) -> None:
    settings = Settings(platforms=json.dumps(platforms), regulators=json.dumps(regulators),
                        admins=json.dumps(admins))
    with pytest.raises(ConfigError, match=f"^{holders} share an API key") as refused:
        _ = settings.admin_list
    assert "-key" not in str(refused.value)  # the key itself is never repeated


def test_an_admin_keeps_its_api_key_out_of_its_repr() -> None:
    assert "admin-key" not in repr(Admin("a", "admin-key"))
    assert "platform-key" not in repr(Settings(platforms=json.dumps([PLATFORM])).platform_list)


def test_the_development_admin_key_counts_as_a_development_secret() -> None:
    real = {"ref_secret": "x" * 32, "platforms": json.dumps(
        [{**PLATFORM, "key": "0x" + "11" * 32}]), "regulators": "[]",
        "vault_key": "prod-1:" + "77" * 32}
    assert Settings(**real, admins=json.dumps([ADMIN])).uses_dev_secrets is False
    dev_admin = json.dumps([{"name": "ops", "apiKey": DEV_ADMIN_API_KEY}])
    assert Settings(**real, admins=dev_admin).uses_dev_secrets is True


def test_every_setting_is_described_for_help() -> None:
    assert "BINDLEDGER_ADMINS: JSON list of admins" in describe_settings()
