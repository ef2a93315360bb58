"""The app secret and access tokens never appear in messages, reprs or log lines."""

from __future__ import annotations

import logging
import pickle

import pytest

from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import QRRequest
from wxqr.wechat import (
    APIError,
    CachedToken,
    InvalidCredentials,
    MemoryTokenCache,
    TokenSource,
    TransportError,
    WeChatClient,
    WeChatError,
)

from .support import APPID, SECRET, config_for

pytestmark = pytest.mark.anyio

WRONG_SECRET = "wrong-secret-7d1c0b"


@pytest.mark.parametrize("source", list(TokenSource))
async def test_no_secret_or_token_in_errors_reprs_or_logs(
    emu: RunningEmulator, source: TokenSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[WeChatError] = []
    tokens: list[str] = []
    cache = MemoryTokenCache()
    config = config_for(emu, token_source=source)
    async with WeChatClient(config, cache=cache) as client:
        tokens.append(await client.tokens.get())
        # a rejected token (40001 after WeChat revoked it) and its retry
        emu.advance(7200 + 10)
        await client.list_tags()
        tokens.append(await client.tokens.get())
        # a dropped connection on a URL carrying the token
        emu.set_faults(drop_ratio=1.0, paths=["/cgi-bin/tags/get"])
        with pytest.raises(TransportError) as dropped:
            await client.list_tags()
        errors.append(dropped.value)
        emu.set_faults()
        with pytest.raises(APIError) as bad_ticket:
            await client.fetch_qrcode_image("no-such-ticket")
        errors.append(bad_ticket.value)
        reprs = [repr(client), repr(client.config), repr(client.tokens), repr(cache)]
        reprs.append(repr(await cache.get(APPID)))
    wrong = config_for(emu, token_source=source, secret=WRONG_SECRET)
    async with WeChatClient(wrong) as client:
        with pytest.raises(InvalidCredentials) as denied:
            await client.create_qrcode(QRRequest.permanent(1))
        errors.append(denied.value)
        reprs.append(repr(wrong))

    assert "access_token=***" in caplog.text  # httpx logged the requests, redacted
    texts = [caplog.text, *reprs]
    for error in errors:
        texts += [str(error), repr(error), str(error.args)]
        texts += [repr(error.__cause__), repr(error.__context__)]
    for text in texts:
        for secret in (SECRET, WRONG_SECRET, *tokens):
            assert secret not in text


def test_api_error_carries_fields_and_survives_pickling() -> None:
    error = APIError(45029, "qrcode count out of limit rid: 6541-abc", "6541-abc")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is APIError
    assert (copy.errcode, copy.errmsg, copy.rid) == (45029, error.errmsg, "6541-abc")
    assert "45029" in str(error)


def test_cached_token_repr_hides_the_value() -> None:
    token = CachedToken("88_" + "x" * 100, 1_900_000_000_000)
    assert "88_" not in repr(token)
    assert "1900000000000" in repr(token)
