"""Secrets at rest: stored encrypted with WXQR_SECRET_KEY, rotated, and old rows still read.

Every test reads the raw rows (not through the services) to see what the database holds.
"""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import Engine, insert, select

from wxqr.protocol import EncryptMode
from wxqr.service.accounts import (
    AccountError,
    add_account,
    get_account,
    list_accounts,
    update_account,
)
from wxqr.service.admin import SECRET_KEY, AdminAuth
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.errors import InvalidInputError
from wxqr.service.secrets_box import (
    PLAINTEXT,
    SEALED_PREFIX,
    SecretBox,
    SecretsUnreadable,
    bind_secret_box,
    new_secret_key,
    secret_box,
)
from wxqr.service.secrets_rotation import check_stored_secrets, rotate_secrets
from wxqr.service.token_cache import DatabaseTokenCache
from wxqr.store import tables as t
from wxqr.wechat import CachedToken

APPID = "wx1111111111111111"
TOKEN = "tok-3n8f"
APP_SECRET = "app-secret-9x7"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCESS_TOKEN = "ACCESS-TOKEN-77-" + "x" * 140
KEY_A = new_secret_key()
KEY_B = new_secret_key()


def _raw_account(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(select(t.accounts).where(t.accounts.c.appid == APPID)).mappings()
        found = row.one()
    return {column: found[column] for column in ("token", "app_secret", "aes_key")}


def _raw_setting(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(select(t.settings.c.value).where(t.settings.c.key == key)).scalar()
    return None if value is None else str(value)


def _raw_access_token(engine: Engine) -> str | None:
    with engine.connect() as conn:
        query = select(t.access_tokens.c.token).where(t.access_tokens.c.appid == APPID)
        return conn.execute(query).scalar()


def _add(engine: Engine) -> None:
    add_account(
        engine,
        appid=APPID,
        token=TOKEN,
        app_secret=APP_SECRET,
        aes_key=AES_KEY,
        encrypt_mode=EncryptMode.SAFE,
    )


def _put_access_token(engine: Engine, value: str = ACCESS_TOKEN) -> DatabaseTokenCache:
    cache = DatabaseTokenCache(engine)

    async def put() -> None:
        lease = await cache.try_lock(APPID, 10)
        assert lease is not None
        assert await cache.put(APPID, CachedToken(value, 4_000_000_000_000), lease)
        await cache.unlock(APPID, lease)

    anyio.run(put)
    return cache


def _cached_value(cache: DatabaseTokenCache) -> str | None:
    found = anyio.run(cache.get, APPID)
    return None if found is None else found.value


def test_with_a_key_every_stored_secret_is_encrypted(engine: Engine) -> None:
    bind_secret_box(engine, SecretBox([KEY_A]))
    _add(engine)
    admin = AdminAuth(engine)
    admin.set_password("correct horse")
    session = admin.login("correct horse")
    assert session is not None
    admin.csrf_token(session)  # the session secret signs the forms' CSRF tokens
    cache = _put_access_token(engine)

    raw = _raw_account(engine)
    for column, plain in (("token", TOKEN), ("app_secret", APP_SECRET), ("aes_key", AES_KEY)):
        stored = raw[column]
        assert stored is not None
        assert stored.startswith(SEALED_PREFIX), column
        assert plain not in stored
    session_secret = _raw_setting(engine, SECRET_KEY)
    assert session_secret is not None
    assert session_secret.startswith(SEALED_PREFIX)
    stored_token = _raw_access_token(engine)
    assert stored_token is not None
    assert stored_token.startswith(SEALED_PREFIX)
    assert ACCESS_TOKEN not in stored_token

    # ... and every reader gets the plaintext back.
    account = get_account(engine, APPID)
    assert account is not None
    assert (account.token, account.app_secret, account.aes_key) == (TOKEN, APP_SECRET, AES_KEY)
    assert account.keys().crypto is not None
    assert admin.session_valid(session)
    assert _cached_value(cache) == ACCESS_TOKEN
    # The token cache's compare-and-clear compares decrypted values.
    assert not anyio.run(cache.expire_if, APPID, "some-other-token")
    assert anyio.run(cache.expire_if, APPID, ACCESS_TOKEN)
    assert _raw_access_token(engine) is None


def test_without_a_key_secrets_are_stored_as_before(engine: Engine) -> None:
    assert secret_box(engine) is PLAINTEXT
    _add(engine)
    _put_access_token(engine)
    assert _raw_account(engine) == {"token": TOKEN, "app_secret": APP_SECRET, "aes_key": AES_KEY}
    assert _raw_access_token(engine) == ACCESS_TOKEN


def test_plaintext_rows_of_an_older_install_keep_working_and_get_encrypted(
    engine: Engine,
) -> None:
    _add(engine)  # no key yet
    AdminAuth(engine).set_password("correct horse")
    session = AdminAuth(engine).login("correct horse")
    assert session is not None
    csrf = AdminAuth(engine).csrf_token(session)  # makes the session secret, plain
    _put_access_token(engine)
    assert _raw_setting(engine, SECRET_KEY) is not None

    bind_secret_box(engine, SecretBox([KEY_A]))
    account = get_account(engine, APPID)
    assert account is not None
    assert account.token == TOKEN
    assert account.aes_key == AES_KEY
    assert AdminAuth(engine).session_valid(session)
    check_stored_secrets(engine, secret_box(engine))

    # The account's next change writes all its secrets encrypted.
    update_account(engine, APPID, name="Shop", catalog=CatalogVersion())
    assert all(v and v.startswith(SEALED_PREFIX) for v in _raw_account(engine).values())
    assert _raw_access_token(engine) == ACCESS_TOKEN  # not rewritten yet

    report = rotate_secrets(engine, secret_box(engine))
    assert (report.account_secrets, report.access_tokens, report.session_secrets) == (3, 1, 1)
    for stored in (_raw_setting(engine, SECRET_KEY), _raw_access_token(engine)):
        assert stored is not None
        assert stored.startswith(SEALED_PREFIX)
    assert AdminAuth(engine).session_valid(session)
    assert AdminAuth(engine).csrf_valid(session, csrf)  # the same secret, encrypted


def test_rotation_with_two_keys(engine: Engine) -> None:
    bind_secret_box(engine, SecretBox([KEY_A]))
    _add(engine)
    AdminAuth(engine).set_password("correct horse")
    session = AdminAuth(engine).login("correct horse")
    assert session is not None
    csrf = AdminAuth(engine).csrf_token(session)
    _put_access_token(engine)
    before = _raw_account(engine)

    # The new key first, the old one after: everything still reads.
    bind_secret_box(engine, SecretBox([KEY_B, KEY_A]))
    assert [a.token for a in list_accounts(engine)] == [TOKEN]
    report = rotate_secrets(engine, secret_box(engine))
    assert report.total == 5
    after = _raw_account(engine)
    assert all(after[c] != before[c] for c in after)

    # Now the new key alone opens everything; the old key alone opens nothing.
    bind_secret_box(engine, SecretBox([KEY_B]))
    check_stored_secrets(engine, secret_box(engine))
    account = get_account(engine, APPID)
    assert account is not None
    assert account.app_secret == APP_SECRET
    assert AdminAuth(engine).session_valid(session)
    assert AdminAuth(engine).csrf_valid(session, csrf)
    assert _cached_value(DatabaseTokenCache(engine)) == ACCESS_TOKEN
    bind_secret_box(engine, SecretBox([KEY_A]))
    with pytest.raises(SecretsUnreadable):
        get_account(engine, APPID)


def test_a_wrong_or_missing_key_is_a_clear_error_naming_no_secret(engine: Engine) -> None:
    bind_secret_box(engine, SecretBox([KEY_A]))
    _add(engine)
    AdminAuth(engine).set_password("correct horse")
    session = AdminAuth(engine).login("correct horse")
    assert session is not None
    AdminAuth(engine).csrf_token(session)
    cache = _put_access_token(engine)

    bind_secret_box(engine, SecretBox([KEY_B]))
    with pytest.raises(SecretsUnreadable) as wrong:
        get_account(engine, APPID)
    message = str(wrong.value)
    assert "WXQR_SECRET_KEY" in message
    assert APPID in message
    assert "wrong key" in message
    with pytest.raises(SecretsUnreadable, match="session secret"):
        AdminAuth(engine).csrf_token(session)
    with pytest.raises(SecretsUnreadable):
        check_stored_secrets(engine, secret_box(engine))
    # A rotation that cannot open an account secret changes nothing at all.
    before = _raw_account(engine)
    with pytest.raises(SecretsUnreadable):
        rotate_secrets(engine, secret_box(engine))
    assert _raw_account(engine) == before
    # An access token no key opens is only a cache miss (it is fetched again).
    assert _cached_value(cache) is None

    bind_secret_box(engine, PLAINTEXT)
    with pytest.raises(SecretsUnreadable) as missing:
        list_accounts(engine)
    assert "WXQR_SECRET_KEY is not set" in str(missing.value)
    for error in (wrong.value, missing.value):
        for secret in (TOKEN, APP_SECRET, AES_KEY, KEY_A, KEY_B):
            assert secret not in str(error)
    with pytest.raises(InvalidInputError, match="WXQR_SECRET_KEY is not set"):
        rotate_secrets(engine, PLAINTEXT)


def test_rotation_clears_access_tokens_no_key_opens(engine: Engine) -> None:
    bind_secret_box(engine, SecretBox([KEY_A]))
    _add(engine)
    _put_access_token(engine)
    with engine.begin() as conn:  # an access token sealed with a key since thrown away
        conn.execute(
            insert(t.access_tokens).values(
                appid="wx-other",
                token=SecretBox([KEY_B]).seal("lost-token"),
                expires_at=4_000_000_000_000,
                updated_at=0,
            )
        )
    report = rotate_secrets(engine, secret_box(engine))
    assert (report.access_tokens, report.access_tokens_dropped) == (1, 1)
    with engine.connect() as conn:
        lost = conn.execute(
            select(t.access_tokens.c.token).where(t.access_tokens.c.appid == "wx-other")
        ).scalar()
    assert lost is None


def test_longest_secrets_fit_their_columns_encrypted(engine: Engine) -> None:
    """PostgreSQL enforces column lengths: the encrypted forms must fit (revision 0005)."""
    bind_secret_box(engine, SecretBox([KEY_A]))
    add_account(
        engine,
        appid=APPID,
        token="t" * 128,
        app_secret="s" * 256,
        aes_key=AES_KEY,
        encrypt_mode=EncryptMode.COMPATIBLE,
    )
    account = get_account(engine, APPID)
    assert account is not None
    assert account.token == "t" * 128
    _put_access_token(engine, "a" * 512)
    assert _cached_value(DatabaseTokenCache(engine)) == "a" * 512


def test_a_value_that_looks_encrypted_is_refused_as_a_secret(engine: Engine) -> None:
    with pytest.raises(AccountError, match="token"):
        add_account(engine, appid=APPID, token=SEALED_PREFIX + "abc")
    with pytest.raises(AccountError, match="app secret"):
        add_account(engine, appid=APPID, token=TOKEN, app_secret=SEALED_PREFIX + "abc")
    with pytest.raises(AccountError, match="app secret"):
        add_account(engine, appid=APPID, token=TOKEN, app_secret="has space")
