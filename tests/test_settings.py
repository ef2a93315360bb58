"""Settings.from_env: defaults, the env account, and clear errors."""

from __future__ import annotations

import pytest

from wxqr.protocol import EncryptMode
from wxqr.settings import Settings, SettingsError

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///wxqr.sqlite3"
    assert settings.push_max_age_seconds == 600
    assert settings.env_account is None
    assert settings.worker_enabled


def test_env_account_and_overrides() -> None:
    settings = Settings.from_env(
        {
            "WXQR_DATABASE_URL": "postgresql://u@db/wxqr",
            "WXQR_APPID": "wx1111111111111111",
            "WXQR_APP_SECRET": "app-secret-9x7",
            "WXQR_TOKEN": "tok-3n8f",
            "WXQR_AES_KEY": AES_KEY,
            "WXQR_ENCRYPT_MODE": "Safe",
            "WXQR_PUSH_MAX_AGE_SECONDS": "0",
            "WXQR_WORKER": "off",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@db/wxqr"
    account = settings.env_account
    assert account is not None
    assert account.encrypt_mode is EncryptMode.SAFE
    assert settings.push_max_age_seconds == 0
    assert not settings.worker_enabled
    for secret in ("app-secret-9x7", "tok-3n8f", AES_KEY):
        assert secret not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WXQR_APPID": "wx1"}, "WXQR_TOKEN"),
        ({"WXQR_APPID": "wx1", "WXQR_TOKEN": "t", "WXQR_ENCRYPT_MODE": "aes"}, "plain"),
        ({"WXQR_APPID": "wx1", "WXQR_TOKEN": "t", "WXQR_ENCRYPT_MODE": "safe"}, "AES_KEY"),
        ({"WXQR_PUSH_MAX_AGE_SECONDS": "soon"}, "number"),
        ({"WXQR_BATCH_MAX": "0"}, "at least"),
        ({"WXQR_WORKER": "maybe"}, "boolean"),
        ({"WXQR_DATABASE_URL": "mysql://u:pw@db/wxqr"}, "sqlite:// or postgresql://"),
        ({"WXQR_DATABASE_URL": "wxqr.sqlite3"}, "got no URL"),
        ({"WXQR_WECHAT_TOKEN_SOURCE": "fast"}, "stable or classic"),
        ({"WXQR_WECHAT_TIMEOUT": "0"}, "WXQR_WECHAT_TIMEOUT must be at least"),
        ({"WXQR_INGEST_WRITER": "fork"}, "process or thread"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_wechat_section() -> None:
    settings = Settings.from_env(
        {"WXQR_WECHAT_TOKEN_SOURCE": "Classic", "WXQR_WECHAT_TIMEOUT": "2.5"}
    )
    assert settings.wechat_token_source == "classic"
    assert settings.wechat_timeout == 2.5
    defaults = Settings.from_env({})
    assert (defaults.wechat_token_source, defaults.wechat_timeout) == ("stable", 10.0)


def test_urls_that_may_hold_passwords_are_not_in_the_repr() -> None:
    settings = Settings.from_env(
        {
            "WXQR_DATABASE_URL": "postgresql://wxqr:db-pw-77@db/wxqr",
            "WXQR_REDIS_URL": "redis://:redis-pw-88@cache:6379/0",
        }
    )
    assert "db-pw-77" not in repr(settings)
    assert "redis-pw-88" not in repr(settings)
