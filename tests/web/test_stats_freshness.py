"""Freshness of the stats rollups over real HTTP: a push WeChat's emulator sees answered
``success`` is in the very next stats answer (the query folds the queue first), with no
background worker running."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.support import pushes as p
from tests.support.db_helpers import add_channel, add_scene
from wxqr.emulator.testing import EmulatorAccount, running_emulator, serve_app
from wxqr.protocol import EncryptMode, QRRequest
from wxqr.service.accounts import add_account
from wxqr.service.stats import StatsService
from wxqr.service.stats._rollup_read import day_span
from wxqr.settings import Settings
from wxqr.web.app import create_app
from wxqr.wechat import ClientConfig, SyncWeChatClient

SECRET = "emulated-app-secret"


def test_a_push_answered_success_is_in_the_next_stats_answer(
    database_url: str, engine: Engine
) -> None:
    account_row = add_account(engine, appid=p.APPID, token=p.TOKEN, app_secret=SECRET)
    account = EmulatorAccount(
        appid=p.APPID,
        secret=SECRET,
        token=p.TOKEN,
        aes_key=None,
        mode=EncryptMode.PLAIN,
        original_id=p.ORIGINAL_ID,
    )
    with running_emulator(accounts=[account], push_timeout=5.0) as emulator:
        settings = Settings(
            database_url=database_url,
            worker_enabled=False,
            wechat_api_base=emulator.base_url,
            wechat_mp_base=emulator.base_url,
        )
        with serve_app(create_app(settings)) as wxqr_url:
            emulator.set_push_url(p.APPID, f"{wxqr_url}/wechat/{p.APPID}")
            channel = add_channel(engine, p.APPID, "poster")
            add_scene(engine, p.APPID, "poster-1", channel_id=channel)
            config = ClientConfig(
                appid=p.APPID,
                secret=SECRET,
                api_base=emulator.base_url,
                mp_base=emulator.base_url,
            )
            with SyncWeChatClient(config) as client:
                ticket = client.create_qrcode(QRRequest.permanent("poster-1")).ticket
            stats = StatsService(engine)
            query = stats.query(p.APPID, channels=[channel], days=3)  # ends today
            seen = []
            for n, openid in enumerate(["o-1", "o-2", "o-1", "o-3"], start=1):
                result = emulator.scan(openid, ticket=ticket)
                assert result.error is None
                summary = stats.summary_of(query)
                seen.append((summary.scans, summary.unique_scanners, summary.new_followers))
                assert summary.scans == n
            assert seen == [(1, 1, 1), (2, 2, 2), (3, 2, 2), (4, 3, 3)]
            with engine.connect() as conn:  # whole days of the account's zone: rollups
                assert day_span(conn, account_row.id, query.window) is not None
