"""Every errcode path and transport failure, against the emulator over real HTTP."""

from __future__ import annotations

import socket

import pytest

from wxqr.emulator.testing import RunningEmulator, running_emulator
from wxqr.protocol import QRRequest
from wxqr.wechat import (
    APIError,
    CachedToken,
    ClientConfig,
    ConfigurationError,
    InvalidCredentials,
    InvalidToken,
    Lease,
    MemoryTokenCache,
    PermanentQRLimitReached,
    QuotaExceeded,
    SystemBusy,
    TokenError,
    TokenSource,
    TransportError,
    UnexpectedResponse,
    WeChatClient,
    WeChatError,
)

from .support import ACCOUNT, APPID, SECRET, config_for

pytestmark = pytest.mark.anyio

CREATE = "/cgi-bin/qrcode/create"


def test_the_error_tree() -> None:
    for cls in (ConfigurationError, TransportError, TokenError, APIError):
        assert issubclass(cls, WeChatError)
    assert issubclass(UnexpectedResponse, TransportError)
    for cls in (InvalidToken, InvalidCredentials):
        assert issubclass(cls, APIError)
        assert issubclass(cls, TokenError)
    for cls in (QuotaExceeded, PermanentQRLimitReached, SystemBusy):
        assert issubclass(cls, APIError)
        assert not issubclass(cls, TokenError)


@pytest.mark.parametrize("source", list(TokenSource))
async def test_unknown_appid_is_invalid_credentials(
    emu: RunningEmulator, source: TokenSource
) -> None:
    config = config_for(emu, appid="wx00000000000unknown", token_source=source)
    async with WeChatClient(config) as client:
        with pytest.raises(InvalidCredentials) as caught:
            await client.create_qrcode(QRRequest.permanent(1))
    assert caught.value.errcode == 40013
    assert caught.value.rid is not None
    assert emu.calls(CREATE) == 0


@pytest.mark.parametrize(
    ("source", "errcode", "path"),
    [
        (TokenSource.STABLE, 40125, "/cgi-bin/stable_token"),
        (TokenSource.CLASSIC, 40001, "/cgi-bin/token"),
    ],
)
async def test_wrong_secret_is_invalid_credentials_and_not_retried(
    emu: RunningEmulator, source: TokenSource, errcode: int, path: str
) -> None:
    config = config_for(emu, secret="not-the-secret", token_source=source)
    async with WeChatClient(config) as client:
        with pytest.raises(InvalidCredentials) as caught:
            await client.list_tags()
    assert caught.value.errcode == errcode
    assert emu.calls(path) == 1


async def test_permanent_limit_is_its_own_error_and_not_retried() -> None:
    with running_emulator(accounts=[ACCOUNT], permanent_limit=2) as emu:
        async with WeChatClient(config_for(emu)) as client:
            await client.create_qrcode(QRRequest.permanent(1))
            await client.create_qrcode(QRRequest.permanent("two"))
            with pytest.raises(PermanentQRLimitReached) as caught:
                await client.create_qrcode(QRRequest.permanent(3))
            temporary = await client.create_qrcode(QRRequest.temporary(3, 60))
        assert caught.value.errcode == 45029
        assert temporary.expire_seconds == 60
        assert emu.calls(CREATE) == 4


async def test_daily_quota_is_quota_exceeded_and_not_retried() -> None:
    with running_emulator(accounts=[ACCOUNT], daily_quota=2) as emu:
        async with WeChatClient(config_for(emu)) as client:
            await client.list_tags()
            await client.list_tags()
            with pytest.raises(QuotaExceeded) as caught:
                await client.list_tags()
        assert caught.value.errcode == 45009
        assert emu.calls("/cgi-bin/tags/get") == 3


async def test_minute_quota_of_force_refresh_is_quota_exceeded(emu: RunningEmulator) -> None:
    async with WeChatClient(config_for(emu)) as client:
        first = await client.tokens.get()
        forced = await client.tokens.refresh(force_refresh=True)
        assert forced != first
        with pytest.raises(QuotaExceeded) as caught:
            await client.tokens.refresh(force_refresh=True)  # within 30 s of the last
        assert caught.value.errcode == 45011
        assert await client.tokens.get() == forced
    assert emu.calls("/cgi-bin/stable_token") == 3


async def test_system_busy_is_retried_with_bounded_jittered_backoff(emu: RunningEmulator) -> None:
    emu.set_faults(busy_ratio=1.0, paths=[CREATE])
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    config = config_for(emu, busy_retries=4, backoff_base=0.5, backoff_max=1.5)
    async with WeChatClient(config, sleep=record) as client:
        with pytest.raises(SystemBusy) as caught:
            await client.create_qrcode(QRRequest.permanent(1))
    assert caught.value.errcode == -1
    assert emu.calls(CREATE) == 1 + 4
    caps = [0.5, 1.0, 1.5, 1.5]  # base * 2**n, capped at backoff_max
    assert len(delays) == 4
    assert all(0 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    assert len(set(delays)) == 4  # jitter: random within the cap


async def test_system_busy_then_success(emu: RunningEmulator) -> None:
    emu.set_faults(busy_ratio=0.5, paths=[CREATE], seed=7)
    async with WeChatClient(config_for(emu, busy_retries=12)) as client:
        tickets = [await client.create_qrcode(QRRequest.temporary(i, 60)) for i in range(1, 9)]
    assert len({t.ticket for t in tickets}) == 8
    assert emu.calls(CREATE) > 8  # some calls were answered -1 and retried


async def _seed(cache: MemoryTokenCache, value: str) -> None:
    lease = await cache.try_lock(APPID, ttl=5)
    assert lease is not None
    assert await cache.put(APPID, CachedToken(value, 2**42), lease)
    await cache.unlock(APPID, lease)


@pytest.mark.parametrize(
    ("bad_token", "errcode"),
    [
        ("12_" + "A" * 100, 40001),  # well-formed but never issued
        ("garbage", 40014),  # malformed
    ],
)
async def test_rejected_token_is_replaced_and_the_call_retried_once(
    emu: RunningEmulator, bad_token: str, errcode: int
) -> None:
    cache = MemoryTokenCache()
    await _seed(cache, bad_token)
    async with WeChatClient(config_for(emu), cache=cache) as client:
        ticket = await client.create_qrcode(QRRequest.permanent(9))
    assert ticket.url
    assert emu.calls(CREATE) == 2
    assert emu.calls("/cgi-bin/stable_token") == 1
    cached = await cache.get(APPID)
    assert cached is not None
    assert cached.value != bad_token


class _StuckCache(MemoryTokenCache):
    """A cache that cannot store: it always hands out the same rejected token."""

    async def put(self, appid: str, token: CachedToken, lease: Lease) -> bool:
        return False

    async def expire_if(self, appid: str, value: str) -> bool:
        return False


async def test_a_second_token_error_is_raised_never_looped(emu: RunningEmulator) -> None:
    cache = _StuckCache()
    await MemoryTokenCache.put(cache, APPID, CachedToken("garbage", 2**42), Lease("x", 0))
    async with WeChatClient(config_for(emu), cache=cache) as client:
        with pytest.raises(InvalidToken) as caught:
            await client.list_tags()
    assert caught.value.errcode == 40014
    assert emu.calls("/cgi-bin/tags/get") == 2  # the call and its one retry
    assert emu.calls("/cgi-bin/stable_token") == 0


async def test_dropped_connection_is_a_transport_error(emu: RunningEmulator) -> None:
    emu.set_faults(drop_ratio=1.0, paths=[CREATE])
    async with WeChatClient(config_for(emu)) as client:
        with pytest.raises(TransportError, match=CREATE):
            await client.create_qrcode(QRRequest.permanent(1))
    assert emu.calls(CREATE) == 1


async def test_timeout_is_a_transport_error(emu: RunningEmulator) -> None:
    emu.set_faults(latency=1.0, paths=["/cgi-bin/tags/get"])
    async with WeChatClient(config_for(emu, timeout=0.2)) as client:
        with pytest.raises(TransportError, match=r"timed out after 0\.2 s"):
            await client.list_tags()


async def test_unreachable_server_is_a_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    config = ClientConfig(APPID, SECRET, api_base=base, mp_base=base, timeout=2)
    async with WeChatClient(config) as client:
        with pytest.raises(TransportError, match="ConnectError"):
            await client.list_tags()
        with pytest.raises(TransportError):
            await client.fetch_qrcode_image("abc")


async def test_http_error_status_is_a_transport_error(emu: RunningEmulator) -> None:
    config = config_for(emu, api_base=emu.base_url + "/no-such-prefix")
    async with WeChatClient(config) as client:
        with pytest.raises(TransportError, match="HTTP 404"):
            await client.list_tags()


async def test_non_image_answer_to_showqrcode_is_unexpected(emu: RunningEmulator) -> None:
    # /_emulator/calls answers JSON without an errcode: neither an image nor an error
    config = config_for(emu, mp_base=emu.base_url + "/_emulator/calls?path=")
    async with WeChatClient(config) as client:
        with pytest.raises(UnexpectedResponse, match="content type"):
            await client.fetch_qrcode_image("abc")


def test_config_validation_and_environment() -> None:
    with pytest.raises(ConfigurationError):
        ClientConfig("", SECRET)
    with pytest.raises(ConfigurationError):
        ClientConfig(APPID, "")
    with pytest.raises(ConfigurationError):
        ClientConfig(APPID, SECRET, api_base="ftp://x")
    with pytest.raises(ConfigurationError):
        ClientConfig(APPID, SECRET, timeout=0)
    with pytest.raises(ConfigurationError, match="WXQR_APPID"):
        ClientConfig.from_env({})
    with pytest.raises(ConfigurationError):
        ClientConfig.from_env(
            {"WXQR_APPID": APPID, "WXQR_APP_SECRET": SECRET, "WXQR_WECHAT_TOKEN_SOURCE": "x"}
        )
    defaults = ClientConfig.from_env({"WXQR_APPID": APPID, "WXQR_APP_SECRET": SECRET})
    assert defaults.api_base == "https://api.weixin.qq.com"
    assert defaults.mp_base == "https://mp.weixin.qq.com"
    assert defaults.token_source is TokenSource.STABLE
    assert defaults.redis_url is None
    configured = ClientConfig.from_env(
        {
            "WXQR_APPID": APPID,
            "WXQR_APP_SECRET": SECRET,
            "WXQR_WECHAT_API_BASE": "http://127.0.0.1:9/",
            "WXQR_WECHAT_MP_BASE": "http://127.0.0.1:9",
            "WXQR_WECHAT_TOKEN_SOURCE": "Classic",
            "WXQR_WECHAT_TIMEOUT": "3.5",
            "WXQR_REDIS_URL": "redis://:pw@127.0.0.1:6379/0",
        }
    )
    assert configured.api_base == "http://127.0.0.1:9"
    assert configured.token_source is TokenSource.CLASSIC
    assert configured.timeout == 3.5
    assert configured.redis_url == "redis://:pw@127.0.0.1:6379/0"
    assert "pw" not in repr(configured)
