"""Everything the adapters (REST API, dashboard, CLI) need over one database, built once.

``Workspace.open(engine, settings)`` wires the channel, code, image, API-key, admin and
stats services to the same engine and to WeChat clients built from the stored accounts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from wxqr.protocol import PERMANENT_CODE_LIMIT
from wxqr.service.accounts import Account, get_account, get_account_by_id, list_accounts
from wxqr.service.admin import AdminAuth
from wxqr.service.apikeys import ApiKeyService
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.channel_errors import InvalidInputError, NotFoundError
from wxqr.service.channels import ChannelService
from wxqr.service.code_images import CodeImages
from wxqr.service.codes import CodeService
from wxqr.service.login_throttle import LoginThrottle
from wxqr.service.stats import StatsService
from wxqr.service.wechat_clients import WeChatClients
from wxqr.settings import Settings

__all__ = ["Workspace"]


@dataclass(frozen=True)
class Workspace:
    engine: Engine
    settings: Settings
    clients: WeChatClients
    channels: ChannelService
    codes: CodeService
    images: CodeImages
    api_keys: ApiKeyService
    admin: AdminAuth
    login_throttle: LoginThrottle
    stats: StatsService
    clock: Callable[[], float]
    catalog: CatalogVersion

    @classmethod
    def open(
        cls,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        permanent_limit: int = PERMANENT_CODE_LIMIT,
        catalog: CatalogVersion | None = None,
    ) -> Workspace:
        """``catalog``: the version the serving process's webhook caches follow (a new
        one when nothing in this process caches)."""
        catalog = catalog or CatalogVersion()
        clients = WeChatClients.from_settings(engine, settings)
        return cls(
            engine=engine,
            settings=settings,
            clients=clients,
            channels=ChannelService(engine, catalog=catalog, clock=clock),
            codes=CodeService(
                engine,
                clients.client,
                catalog=catalog,
                clock=clock,
                permanent_limit=permanent_limit,
            ),
            images=CodeImages(engine, clients.client, clock=clock),
            api_keys=ApiKeyService(engine, clock=clock),
            admin=AdminAuth(engine, clock=clock),
            login_throttle=LoginThrottle(
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_window_seconds,
                clock=clock,
            ),
            stats=StatsService(engine),
            clock=clock,
            catalog=catalog,
        )

    def accounts(self) -> list[Account]:
        return list_accounts(self.engine)

    def account(self, ref: str | int | None = None) -> Account:
        """The account ``ref`` names (appid or id); with no ref, the only account."""
        if ref is None or ref == "":
            found = list_accounts(self.engine)
            if len(found) == 1:
                return found[0]
            if not found:
                raise NotFoundError(
                    "no account is configured yet: add one with `wxqr account add`",
                    field="account",
                )
            raise InvalidInputError(
                "several accounts are configured: say which one (appid) with `account`",
                field="account",
            )
        account = None
        if isinstance(ref, str):
            account = get_account(self.engine, ref)
        if account is None and str(ref).isdigit():
            account = get_account_by_id(self.engine, int(ref))
        if account is None:
            raise NotFoundError(f"no account {ref!r}", field="account")
        return account

    def account_of_channel(self, channel_id: int) -> Account:
        channel = self.channels.get(channel_id)
        account = get_account_by_id(self.engine, channel.account_id)
        if account is None:  # pragma: no cover - cascaded with the account
            raise NotFoundError(f"no account for channel {channel_id}")
        return account

    def today(self, account: Account) -> date:
        """Today's date in the account's time zone."""
        return datetime.fromtimestamp(self.clock(), ZoneInfo(account.timezone)).date()

    def recent_dates(
        self,
        account: Account,
        date_from: date | None = None,
        date_to: date | None = None,
        *,
        days: int = 30,
    ) -> tuple[date, date]:
        """The inclusive dates asked for, defaulting to the ``days`` days up to today."""
        end = date_to or self.today(account)
        start = date_from or end - timedelta(days=days - 1)
        if start > end:
            raise InvalidInputError(f"from date {start} is after to date {end}", field="from")
        return start, end
