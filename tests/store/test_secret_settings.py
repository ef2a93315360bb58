"""WXQR_SECRET_KEY in the settings, and secrets kept out of reprs and error messages."""

from __future__ import annotations

import pytest

from wxqr.protocol import EncryptMode
from wxqr.service.accounts import Account
from wxqr.service.secrets_box import SecretBox, new_secret_key
from wxqr.settings import Settings, SettingsError

KEY_A = new_secret_key()
KEY_B = new_secret_key()


def test_secret_keys_are_read_in_order_and_never_shown() -> None:
    settings = Settings.from_env(
        {"WXQR_SECRET_KEY": f" {KEY_B} , {KEY_A} ", "WXQR_APPID": "wx1", "WXQR_TOKEN": "tok-9"}
    )
    assert settings.secret_keys == (KEY_B, KEY_A)
    assert Settings.from_env({}).secret_keys == ()
    assert settings.env_account is not None
    for text in (repr(settings), str(settings), repr(SecretBox(settings.secret_keys))):
        assert KEY_A not in text
        assert KEY_B not in text
        assert "tok-9" not in text
    assert repr(SecretBox(settings.secret_keys)) == "SecretBox(keys=2)"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("not-a-key", "key 1 of 1 is not a key"),
        (f"{KEY_A},short", "key 2 of 2 is not a key"),
        (f"{KEY_A},", "key 2 of 2"),
        (f"{KEY_A},{KEY_A}", "the same key twice"),
        ("é" * 44, "key 1 of 1"),
    ],
)
def test_a_bad_secret_key_is_refused_without_echoing_it(value: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"WXQR_SECRET_KEY": value})
    message = str(refused.value)
    assert "WXQR_SECRET_KEY" in message
    assert fragment in message
    assert KEY_A not in message
    assert "not-a-key" not in message
    assert "short" not in message


def test_an_account_repr_holds_no_secret() -> None:
    account = Account(
        id=1,
        appid="wx1",
        name="Shop",
        original_id=None,
        encrypt_mode=EncryptMode.SAFE,
        timezone="Asia/Shanghai",
        default_subscribe_reply=None,
        created_at=0,
        token="tok-3n8f",
        app_secret="app-secret-9x7",
        aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    )
    for text in (repr(account), str(account), repr(account.info()), repr(account.keys())):
        for secret in ("tok-3n8f", "app-secret-9x7", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"):
            assert secret not in text
