"""A separate OS process sharing the Redis token cache (used by test_tokens.py).

    python -m tests.wechat.token_worker BASE_URL REDIS_URL PREFIX DIR CALLS PHASES

For each phase ``n``: write ``DIR/ready-n-PID``, wait for ``DIR/go-n``, make ``CALLS``
concurrent ``list_tags`` calls through one client (classic tokens, Redis cache) and
record the result. Every errcode WeChat answered is counted through an httpx response
hook of the injected AsyncClient. Prints one JSON line per phase.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from wxqr.wechat import ClientConfig, RedisTokenCache, TokenSource, WeChatClient, WeChatError

from .support import APPID, SECRET


def _wait_for(path: Path, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path.name}")
        time.sleep(0.005)


async def main(
    base: str, redis_url: str, prefix: str, folder: Path, calls: int, phases: int
) -> None:
    errcodes: Counter[int] = Counter()

    async def count(response: httpx.Response) -> None:
        body = json.loads(await response.aread())
        errcodes[int(body.get("errcode", 0))] += 1

    config = ClientConfig(
        APPID,
        SECRET,
        api_base=base,
        mp_base=base,
        token_source=TokenSource.CLASSIC,
        lock_poll=0.005,
        lock_wait=20.0,
    )
    cache = RedisTokenCache.from_url(redis_url, prefix=prefix)
    async with (
        httpx.AsyncClient(event_hooks={"response": [count]}) as http,
        WeChatClient(config, http=http, cache=cache) as client,
    ):
        for phase in range(1, phases + 1):
            errcodes.clear()
            fetches_before = client.tokens.fetches
            (folder / f"ready-{phase}-{os.getpid()}").touch()
            _wait_for(folder / f"go-{phase}")  # blocks the loop: nothing else runs yet
            results = await asyncio.gather(
                *(client.list_tags() for _ in range(calls)), return_exceptions=True
            )
            failures = [repr(r) for r in results if isinstance(r, BaseException)]
            assert all(isinstance(r, list | WeChatError) for r in results), failures
            report = {
                "phase": phase,
                "ok": sum(isinstance(r, list) for r in results),
                "failures": failures,
                "fetches": client.tokens.fetches - fetches_before,
                "errcodes": {str(k): v for k, v in errcodes.items()},
            }
            print(json.dumps(report), flush=True)
    await cache.aclose()


if __name__ == "__main__":
    base_url, redis, key_prefix, directory, n_calls, n_phases = sys.argv[1:7]
    asyncio.run(main(base_url, redis, key_prefix, Path(directory), int(n_calls), int(n_phases)))
