"""The account service: add, list, update, env accounts, and secrets kept out of sight."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from wxqr.protocol import EncryptMode, TextReply
from wxqr.service.accounts import (
    AccountError,
    AccountExists,
    UnknownAccount,
    add_account,
    get_account,
    list_accounts,
    set_default_subscribe_reply,
    single_account,
    sync_env_account,
    update_account,
)
from wxqr.service.catalog_version import CatalogVersion
from wxqr.settings import EnvAccount

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SECRETS = ("tok-3n8f", "app-secret-9x7", AES_KEY)


def test_add_get_list_and_single(engine: Engine) -> None:
    assert single_account(engine) is None
    first = add_account(
        engine, appid="wx1111111111111111", token="tok-3n8f", app_secret="app-secret-9x7"
    )
    assert first.encrypt_mode is EncryptMode.PLAIN
    assert first.keys().token == "tok-3n8f"
    assert single_account(engine) == first
    second = add_account(
        engine,
        appid="wx2222222222222222",
        token="tok-3n8f",
        aes_key=AES_KEY,
        encrypt_mode="safe",
        name="Second",
    )
    assert [a.appid for a in list_accounts(engine)] == [first.appid, second.appid]
    assert single_account(engine) is None
    assert get_account(engine, "wx2222222222222222") == second
    assert get_account(engine, "wxmissing") is None
    assert second.keys().crypto is not None


def test_secrets_never_show(engine: Engine) -> None:
    account = add_account(
        engine,
        appid="wx1111111111111111",
        token="tok-3n8f",
        app_secret="app-secret-9x7",
        aes_key=AES_KEY,
        encrypt_mode=EncryptMode.COMPATIBLE,
    )
    info = account.info()
    shown = [repr(account), str(account), repr(info), str(info.as_dict()), repr(account.keys())]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text
    assert info.has_app_secret
    assert info.has_aes_key
    assert info.as_dict()["encrypt_mode"] == "compatible"


def test_duplicates_and_bad_input_are_refused(engine: Engine) -> None:
    add_account(engine, appid="wx1111111111111111", token="tok")
    with pytest.raises(AccountExists):
        add_account(engine, appid="wx1111111111111111", token="tok")
    with pytest.raises(AccountError, match="EncodingAESKey"):
        add_account(engine, appid="wx3", token="tok", encrypt_mode="safe")
    with pytest.raises(AccountError) as bad_key:
        add_account(engine, appid="wx4", token="tok", aes_key="short-secret-key")
    assert "short-secret-key" not in str(bad_key.value)
    with pytest.raises(AccountError, match="appid"):
        add_account(engine, appid="wx 5", token="tok")
    with pytest.raises(AccountError, match="token"):
        add_account(engine, appid="wx6", token="has space")
    with pytest.raises(AccountError, match="time zone"):
        add_account(engine, appid="wx7", token="tok", timezone="Mars/Olympus")
    catalog = CatalogVersion()
    with pytest.raises(UnknownAccount):
        update_account(engine, "wx-none", token="x", catalog=catalog)
    assert len(list_accounts(engine)) == 1
    assert catalog.current == 0  # nothing changed: the webhook's caches stay


def test_update_and_default_reply(engine: Engine) -> None:
    catalog = CatalogVersion()
    add_account(engine, appid="wx1111111111111111", token="tok", catalog=catalog)
    assert catalog.current == 1
    changed = update_account(
        engine,
        "wx1111111111111111",
        aes_key=AES_KEY,
        encrypt_mode="compatible",
        name="Shop",
        catalog=catalog,
    )
    assert changed.encrypt_mode is EncryptMode.COMPATIBLE
    assert changed.name == "Shop"
    assert catalog.current == 2
    with_reply = set_default_subscribe_reply(
        engine, "wx1111111111111111", TextReply("Welcome {openid}"), catalog=catalog
    )
    assert with_reply.default_subscribe_reply == TextReply("Welcome {openid}")
    assert catalog.current == 3
    cleared = set_default_subscribe_reply(engine, "wx1111111111111111", None, catalog=catalog)
    assert cleared.default_subscribe_reply is None
    assert catalog.current == 4
    with pytest.raises(UnknownAccount):
        set_default_subscribe_reply(engine, "wx-none", None, catalog=catalog)
    assert catalog.current == 4


def test_env_account_is_added_then_updated(engine: Engine) -> None:
    env = EnvAccount(appid="wx1111111111111111", token="tok-a", app_secret="s1")
    catalog = CatalogVersion()
    created = sync_env_account(engine, env, catalog=catalog)
    assert created.token == "tok-a"
    assert created.app_secret == "s1"
    again = sync_env_account(
        engine,
        EnvAccount(
            appid="wx1111111111111111",
            token="tok-b",
            aes_key=AES_KEY,
            encrypt_mode=EncryptMode.SAFE,
        ),
        catalog=catalog,
    )
    assert again.id == created.id
    assert catalog.current == 2  # added, then changed: the webhook reloads it each time
    assert again.token == "tok-b"
    assert again.encrypt_mode is EncryptMode.SAFE
    assert again.app_secret == "s1"  # not given: kept
    assert len(list_accounts(engine)) == 1
