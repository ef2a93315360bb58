"""Permanent or retryable: what each WeChat error says about trying again, against the
emulator over real HTTP (issue 14, item 13)."""

from __future__ import annotations

import pytest

from wxqr.emulator.testing import RunningEmulator, running_emulator
from wxqr.protocol import QRRequest
from wxqr.wechat import (
    APIError,
    ConfigurationError,
    InvalidCredentials,
    PermanentQRLimitReached,
    QuotaExceeded,
    SystemBusy,
    TransportError,
    WeChatClient,
    WeChatError,
)
from wxqr.wechat._errors import api_error

from .support import ACCOUNT, config_for

pytestmark = pytest.mark.anyio


def _retry_verdict(error: WeChatError) -> tuple[bool, bool]:
    return error.permanent, error.retryable


async def test_an_unknown_openid_is_permanent(emu: RunningEmulator) -> None:
    async with WeChatClient(config_for(emu)) as client:
        with pytest.raises(APIError) as caught:
            await client.user_info("o-nobody-follows")
    assert caught.value.errcode == 40003
    assert _retry_verdict(caught.value) == (True, False)


async def test_invalid_appid_and_wrong_secret_are_permanent(emu: RunningEmulator) -> None:
    for config in (
        config_for(emu, appid="wx00000000000unknown"),
        config_for(emu, secret="not-the-secret"),
    ):
        async with WeChatClient(config) as client:
            with pytest.raises(InvalidCredentials) as caught:
                await client.list_tags()
        assert _retry_verdict(caught.value) == (True, False)


async def test_the_permanent_code_limit_is_permanent() -> None:
    with running_emulator(accounts=[ACCOUNT], permanent_limit=1) as emu:
        async with WeChatClient(config_for(emu)) as client:
            await client.create_qrcode(QRRequest.permanent(1))
            with pytest.raises(PermanentQRLimitReached) as caught:
                await client.create_qrcode(QRRequest.permanent(2))
    assert _retry_verdict(caught.value) == (True, False)


async def test_busy_and_quota_are_retryable() -> None:
    with running_emulator(accounts=[ACCOUNT], daily_quota=1) as emu:
        async with WeChatClient(config_for(emu, busy_retries=0)) as client:
            await client.list_tags()
            with pytest.raises(QuotaExceeded) as quota:
                await client.list_tags()
    assert _retry_verdict(quota.value) == (False, True)
    with running_emulator(accounts=[ACCOUNT]) as emu:
        emu.set_faults(busy_ratio=1.0, paths=["/cgi-bin/tags/get"])
        async with WeChatClient(config_for(emu, busy_retries=0)) as client:
            with pytest.raises(SystemBusy) as busy:
                await client.list_tags()
    assert _retry_verdict(busy.value) == (False, True)


async def test_transport_failures_are_retryable(emu: RunningEmulator) -> None:
    emu.set_faults(drop_ratio=1.0, paths=["/cgi-bin/tags/get"])
    async with WeChatClient(config_for(emu)) as client:
        with pytest.raises(TransportError) as caught:
            await client.list_tags()
    assert _retry_verdict(caught.value) == (False, True)


def test_unknown_errcodes_are_retryable_and_configuration_errors_permanent() -> None:
    assert api_error(40003, "invalid openid").permanent
    assert api_error(46004, "user not exist").permanent
    assert not api_error(99999, "something new").permanent
    assert not api_error(40001, "invalid credential").permanent  # refresh and go on
    assert ConfigurationError("no appid").permanent
