"""The token promises: single flight across coroutines, processes and hosts (Redis),
refresh ahead of expiry, compare-and-expire, bounded waits — against the emulator."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator
from wxqr.protocol import QRRequest
from wxqr.service.token_cache import DatabaseTokenCache
from wxqr.wechat import (
    CachedToken,
    Lease,
    MemoryTokenCache,
    RedisTokenCache,
    TokenCache,
    TokenRefreshTimeout,
    TokenSource,
    WeChatClient,
)

from .support import ACCOUNT, APPID, SECRET, config_for, purge_redis

pytestmark = pytest.mark.anyio

CREATE = "/cgi-bin/qrcode/create"
TAGS = "/cgi-bin/tags/get"
STABLE = "/cgi-bin/stable_token"
CLASSIC = "/cgi-bin/token"
ROOT = Path(__file__).resolve().parents[2]


class _Clock:
    """The client's clock: real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def _fetch_classic_elsewhere(emu: RunningEmulator) -> None:
    """Another system fetches a classic token (WeChat then revokes the previous one)."""
    async with httpx.AsyncClient(base_url=emu.base_url) as http:
        params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        response = await http.get(CLASSIC, params=params)
        assert "access_token" in response.json()


async def test_50_concurrent_calls_with_an_expired_token_fetch_once(emu: RunningEmulator) -> None:
    clock = _Clock()
    async with WeChatClient(config_for(emu), clock=clock) as client:
        first = await client.tokens.get()
        now = emu.advance(7200 + 60)  # the token expires on WeChat's side...
        clock.offset = now - time.time()  # ...and the client's clock agrees
        tickets = await asyncio.gather(
            *(client.create_qrcode(QRRequest.temporary(i, 60)) for i in range(1, 51))
        )
        assert await client.tokens.get() != first
    assert len({t.ticket for t in tickets}) == 50
    assert emu.calls(STABLE) == 2  # the first token and exactly one refresh
    assert emu.calls(CREATE) == 50  # nobody used the expired token


@pytest.mark.parametrize("source", list(TokenSource))
async def test_50_concurrent_calls_with_a_server_expired_token_fetch_once(
    emu: RunningEmulator, source: TokenSource
) -> None:
    """The client believes its token valid; WeChat answers 42001 to every call."""
    async with WeChatClient(config_for(emu, token_source=source)) as client:
        await client.tokens.get()
        emu.advance(7200 + 60)
        results = await asyncio.gather(*(client.list_tags() for _ in range(50)))
    assert all(r for r in results)
    path = STABLE if source is TokenSource.STABLE else CLASSIC
    assert emu.calls(path) == 2
    assert 50 < emu.calls(TAGS) <= 100  # each call retried at most once


async def test_50_concurrent_calls_after_another_system_revoked_the_token_fetch_once() -> None:
    with running_emulator(accounts=[ACCOUNT], token_overlap=0) as emu:
        config = config_for(emu, token_source=TokenSource.CLASSIC)
        async with WeChatClient(config) as client:
            await client.tokens.get()
            await _fetch_classic_elsewhere(emu)  # our token is now 40001
            results = await asyncio.gather(*(client.list_tags() for _ in range(50)))
        assert all(r for r in results)
        assert emu.calls(CLASSIC) == 3  # ours, the other system's, exactly one refresh


async def test_a_token_refreshed_by_another_worker_is_not_thrown_away() -> None:
    """Worker A's call is in flight with token 1 when worker B refreshes (token 2 revokes
    token 1 at once). A's 40001 must not drop token 2: no third fetch."""
    with running_emulator(accounts=[ACCOUNT], token_overlap=0) as emu:
        shared = MemoryTokenCache()
        config = config_for(emu, token_source=TokenSource.CLASSIC)
        async with WeChatClient(config, cache=shared) as a, WeChatClient(config, cache=shared) as b:
            token1 = await a.tokens.get()
            emu.set_faults(latency=0.5, paths=[CREATE])
            in_flight = asyncio.create_task(a.create_qrcode(QRRequest.permanent(1)))
            for _ in range(500):  # until the emulator has counted (received) the call
                if await asyncio.to_thread(emu.calls, CREATE) >= 1:
                    break
                await asyncio.sleep(0.01)
            token2 = await b.tokens.refresh()  # explicit refresh (no force_refresh)
            emu.set_faults()
            ticket = await in_flight
            assert ticket.url
            assert token2 != token1
            assert await a.tokens.get() == token2
            assert not await a.tokens.invalidate(token1)  # compare-and-expire: kept
            assert await b.tokens.get() == token2
        assert emu.calls(CLASSIC) == 2
        assert emu.calls(CREATE) == 2  # the 40001 and its one retry


async def test_refresh_ahead_of_expiry_avoids_the_failing_call(emu: RunningEmulator) -> None:
    clock = _Clock()
    async with WeChatClient(config_for(emu, refresh_margin=300), clock=clock) as client:
        first = await client.tokens.get()
        now = emu.advance(7200 - 200)  # 200 s left: inside the margin, still valid
        clock.offset = now - time.time()
        await client.create_qrcode(QRRequest.permanent(1))
        second = await client.tokens.get()
    assert second != first  # stable_token renews a token this close to its expiry
    assert emu.calls(STABLE) == 2
    assert emu.calls(CREATE) == 1  # no 42001, no retry


async def test_waiters_use_a_still_valid_token_while_another_worker_refreshes(
    emu: RunningEmulator,
) -> None:
    shared = MemoryTokenCache()
    clock = _Clock()
    config = config_for(emu, refresh_margin=300, lock_wait=0.2)
    async with WeChatClient(config, cache=shared, clock=clock) as client:
        token = await client.tokens.get()
        clock.offset = 7200 - 200  # inside the margin
        held = await shared.try_lock(APPID, ttl=60)  # another worker is refreshing
        assert held is not None
        assert await client.tokens.get() == token  # no waiting, no timeout, no fetch
        await shared.unlock(APPID, held)
    assert emu.calls(STABLE) == 1


async def test_without_a_token_the_wait_for_another_refresh_is_bounded(
    emu: RunningEmulator,
) -> None:
    shared = MemoryTokenCache()
    held = await shared.try_lock(APPID, ttl=60)
    assert held is not None
    async with WeChatClient(config_for(emu, lock_wait=0.2), cache=shared) as client:
        with pytest.raises(TokenRefreshTimeout):
            await client.list_tags()
        await shared.unlock(APPID, held)
        assert await client.list_tags()
    assert emu.calls(STABLE) == 1


async def test_a_dead_lock_holder_delays_the_refresh_only_until_its_ttl(
    emu: RunningEmulator,
) -> None:
    shared = MemoryTokenCache()
    assert await shared.try_lock(APPID, ttl=0.3) is not None  # never released
    async with WeChatClient(config_for(emu, lock_wait=5), cache=shared) as client:
        assert await client.list_tags()
    assert emu.calls(STABLE) == 1


class _RacedCache(MemoryTokenCache):
    """A real memory cache in which another worker's refresh completes (token written,
    lock released) between our reading the empty cache and our taking the lock."""

    def __init__(self, other_workers_token: CachedToken) -> None:
        super().__init__()
        self._pending: CachedToken | None = other_workers_token

    async def try_lock(self, appid: str, ttl: float) -> Lease | None:
        if self._pending is not None:
            token, self._pending = self._pending, None
            theirs = await super().try_lock(appid, ttl)
            assert theirs is not None
            assert await self.put(appid, token, theirs)
            await self.unlock(appid, theirs)
        return await super().try_lock(appid, ttl)


async def test_the_cache_is_re_read_after_taking_the_lock(emu: RunningEmulator) -> None:
    async with httpx.AsyncClient(base_url=emu.base_url) as http:
        body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        issued = (await http.post(STABLE, json=body)).json()
    theirs = CachedToken(issued["access_token"], int((time.time() + 7000) * 1000))
    async with WeChatClient(config_for(emu), cache=_RacedCache(theirs)) as client:
        assert await client.list_tags()
        assert await client.tokens.get() == theirs.value
        assert client.tokens.fetches == 0
    assert emu.calls(STABLE) == 1  # only the other worker's


async def _cold_start_two_clients(emu: RunningEmulator, a: TokenCache, b: TokenCache) -> None:
    config = config_for(emu, token_source=TokenSource.CLASSIC)
    async with WeChatClient(config, cache=a) as one, WeChatClient(config, cache=b) as two:
        results = await asyncio.gather(
            *(client.list_tags() for client in (one, two) for _ in range(20))
        )
    assert len(results) == 40
    assert emu.calls(CLASSIC) == 1
    assert emu.calls(TAGS) == 40


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_database_cache_shares_one_token_between_clients(
    request: pytest.FixtureRequest, backend: str
) -> None:
    engine: Engine = request.getfixturevalue(f"{backend}_engine")
    with running_emulator(accounts=[ACCOUNT], token_overlap=0) as emu:
        # two cache objects on one database: as two processes would have
        await _cold_start_two_clients(emu, DatabaseTokenCache(engine), DatabaseTokenCache(engine))


async def test_redis_cache_shares_one_token_between_clients(
    redis_url: str, redis_prefix: str
) -> None:
    a = RedisTokenCache.from_url(redis_url, prefix=redis_prefix)
    b = RedisTokenCache.from_url(redis_url, prefix=redis_prefix)
    try:
        with running_emulator(accounts=[ACCOUNT], token_overlap=0) as emu:
            await _cold_start_two_clients(emu, a, b)
    finally:
        await a.aclose()
        await b.aclose()
        await purge_redis(redis_url, redis_prefix)


def _wait_ready(folder: Path, phase: int, workers: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 60
    while len(list(folder.glob(f"ready-{phase}-*"))) < len(workers):
        assert all(w.poll() is None for w in workers), "a worker died"
        assert time.monotonic() < deadline, "workers not ready"
        time.sleep(0.01)


def test_two_processes_sharing_redis_fetch_once_and_never_see_40001(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """Classic tokens with no overlap: a second fetch would revoke the first at once, so
    any double refresh would show as 40001. Phase 1: both processes start cold. Phase 2:
    another system revoked the shared token; both processes recover with one fetch."""
    calls = 25
    with running_emulator(accounts=[ACCOUNT], token_overlap=0) as emu:
        command = [sys.executable, "-m", "tests.wechat.token_worker", emu.base_url]
        command += [redis_url, redis_prefix, str(tmp_path), str(calls), "2"]
        workers = [
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)
        ]
        try:
            _wait_ready(tmp_path, 1, workers)
            (tmp_path / "go-1").touch()
            _wait_ready(tmp_path, 2, workers)  # ready for phase 2 = phase 1 done in both
            phase1_classic, phase1_tags = emu.calls(CLASSIC), emu.calls(TAGS)
            asyncio.run(_fetch_classic_elsewhere(emu))
            (tmp_path / "go-2").touch()
            outputs = [w.communicate(timeout=60)[0] for w in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
            asyncio.run(purge_redis(redis_url, redis_prefix))
        assert [w.returncode for w in workers] == [0, 0]
        reports = [json.loads(line) for out in outputs for line in out.splitlines()]
        phase1 = [r for r in reports if r["phase"] == 1]
        phase2 = [r for r in reports if r["phase"] == 2]
        assert [r["ok"] for r in phase1 + phase2] == [calls] * 4
        assert all(r["failures"] == [] for r in reports)
        assert phase1_classic == 1
        assert phase1_tags == 2 * calls  # no 40001, no retry
        assert sum(r["fetches"] for r in phase1) == 1
        assert all("40001" not in r["errcodes"] for r in phase1)
        assert sum(r["fetches"] for r in phase2) == 1
        # phase 2: each call met at most one 40001 (sent with the revoked token) and its
        # retry succeeded: no token was ever revoked again
        rejected = sum(r["errcodes"].get("40001", 0) for r in phase2)
        assert 1 <= rejected <= 2 * calls
        assert emu.calls(CLASSIC) == 1 + 1 + 1  # phase 1, the other system, phase 2


async def test_redis_url_in_the_environment_selects_the_shared_redis_cache(
    redis_url: str,
) -> None:
    appid = f"wxtest{uuid.uuid4().hex[:12]}"  # default key prefix: a unique appid isolates
    account = EmulatorAccount(appid=appid, secret=SECRET, token="tok")
    with running_emulator(accounts=[account]) as emu:
        environ = {
            "WXQR_APPID": appid,
            "WXQR_APP_SECRET": SECRET,
            "WXQR_WECHAT_API_BASE": emu.base_url,
            "WXQR_WECHAT_MP_BASE": emu.base_url,
            "WXQR_REDIS_URL": redis_url,
        }
        try:
            async with WeChatClient.from_env(environ) as one:
                assert isinstance(one.tokens.cache, RedisTokenCache)
                token = await one.tokens.get()
            async with WeChatClient.from_env(environ) as two:  # a new process, say
                assert await two.tokens.get() == token
        finally:
            await purge_redis(redis_url, f"wxqr:token:{appid}")
        assert emu.calls(STABLE) == 1
