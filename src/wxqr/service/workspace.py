"""Everything the adapters (REST API, dashboard, CLI) need over one database, built once.

The adapters' facade of the services. :class:`wxqr.runtime.Runtime` (the composition
root) owns the one workspace of a process: ``runtime.workspace``. ``Workspace.open``
wires the channel, code, image, API-key, admin and stats services to the runtime's engine
and its one :class:`~wxqr.service.wechat_clients.WeChatClients`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Engine

from wxqr.protocol import PERMANENT_CODE_LIMIT
from wxqr.service.access import (
    FULL_ACCESS,
    AccessScope,
    AccountAccess,
    ScopedChannelService,
    ScopedCodeImages,
    ScopedCodeService,
    ScopedStatsService,
    ScopedWebhookService,
)
from wxqr.service.accounts import Account, get_account_by_id, list_accounts, resolve_account
from wxqr.service.admin import AdminAuth
from wxqr.service.apikeys import ApiKeyService
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.channel_codes import ChannelCodes
from wxqr.service.channels import ChannelService
from wxqr.service.code_images import CodeImages, ImageSpec
from wxqr.service.code_lifecycle import CodeLifecycle  # lifecycle:
from wxqr.service.code_styles import CodeStyles  # posters:
from wxqr.service.codes import CodeService
from wxqr.service.dashboard_users import DashboardUsers
from wxqr.service.errors import NotFoundError
from wxqr.service.login_throttle import LoginThrottle, PasswordCheckGate, login_throttle_for
from wxqr.service.posters import PosterService  # posters:
from wxqr.service.posters_access import ScopedCodeStyles, ScopedPosterService  # posters:
from wxqr.service.quotas import QuotaService  # lifecycle:
from wxqr.service.scan_sessions import ScanSessionService, SessionWatcher
from wxqr.service.stats import StatsService
from wxqr.service.stats.insights import StatsInsights
from wxqr.service.webhooks import WebhookService
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
    login_gate: PasswordCheckGate
    stats: StatsService
    webhooks: WebhookService
    clock: Callable[[], float]
    catalog: CatalogVersion
    # scan-sessions: the sessions service and the process's one watcher of waited sessions
    scan_sessions: ScanSessionService
    session_watcher: SessionWatcher
    posters: PosterService  # posters: templates and posters of channels
    code_styles: CodeStyles  # posters: logos and saved styles of codes
    # dashboard-team: the dashboard's users and roles
    dashboard_users: DashboardUsers
    # The scope this workspace is limited to (None: every account, read-write).
    access: AccountAccess | None = None

    @classmethod
    def open(
        cls,
        engine: Engine,
        settings: Settings,
        *,
        clients: WeChatClients | None = None,
        clock: Callable[[], float] = time.time,
        permanent_limit: int = PERMANENT_CODE_LIMIT,
        catalog: CatalogVersion | None = None,
    ) -> Workspace:
        """Build the services (``clients``: the runtime's factory; by default one made
        from ``settings``; ``catalog``: the version the serving process's webhook caches
        follow, a new one when nothing in this process caches). Programs use
        :meth:`wxqr.runtime.Runtime.open` instead."""
        catalog = catalog or CatalogVersion()
        clients = clients or WeChatClients.from_settings(engine, settings)
        scan_sessions = ScanSessionService(
            engine,
            clients.client,
            clients.mp_base,
            clock=clock,
            per_minute=settings.scan_sessions_per_minute,
            retention_days=settings.scan_session_retention_days,
        )
        channels = ChannelService(engine, catalog=catalog, clock=clock)
        codes = CodeService(
            engine, clients.client, catalog=catalog, clock=clock, permanent_limit=permanent_limit
        )
        images = CodeImages(engine, clients.client, clock=clock)
        admin = AdminAuth(engine, clock=clock)
        return cls(
            engine=engine,
            settings=settings,
            clients=clients,
            channels=channels,
            codes=codes,
            images=images,
            api_keys=ApiKeyService(engine, clock=clock),
            admin=admin,
            login_throttle=login_throttle_for(settings, engine, clock=clock),
            login_gate=PasswordCheckGate(settings.login_concurrency),
            stats=StatsService(engine, clock=clock),
            webhooks=WebhookService.from_settings(engine, settings, clock=clock),
            clock=clock,
            catalog=catalog,
            scan_sessions=scan_sessions,
            session_watcher=SessionWatcher(scan_sessions.snapshot),
            code_styles=CodeStyles(engine, channels, codes, images, clock=clock),  # posters:
            posters=PosterService(  # posters:
                engine,
                channels,
                codes,
                font=settings.poster_font,
                clock=clock,
                styles=CodeStyles(engine, channels, codes, images, clock=clock),  # posters2:
            ),
            dashboard_users=DashboardUsers(engine, admin, clock=clock),
        )

    @property
    def scope(self) -> AccessScope:
        return FULL_ACCESS if self.access is None else self.access.scope

    def scoped(self, scope: AccessScope) -> Workspace:
        """This workspace limited to ``scope`` (an API key's): its account look-ups and
        its channel, code, image and stats services refuse everything outside it (see
        :mod:`wxqr.service.access`). The full scope gives this workspace back."""
        if scope == FULL_ACCESS:
            return self
        access = AccountAccess(self.engine, scope)
        channels = ScopedChannelService.over(self.channels, access)
        codes = ScopedCodeService.over(self.codes, access)
        images = ScopedCodeImages.over(self.images, access)
        return replace(
            self,
            access=access,
            channels=channels,
            codes=codes,
            posters=ScopedPosterService.over(self.posters, access, channels, codes),  # posters:
            images=images,
            code_styles=ScopedCodeStyles.over(  # posters:
                self.code_styles, access, channels, codes, images
            ),
            stats=ScopedStatsService.over(self.stats, access),
            webhooks=ScopedWebhookService.over(self.webhooks, access),
            scan_sessions=self.scan_sessions.scoped(access),
        )

    def accounts(self) -> list[Account]:
        """The accounts (of the scope, in a scoped workspace)."""
        if self.access is not None:
            return self.access.accounts()
        return list_accounts(self.engine)

    def account(self, ref: str | int | None = None, *, first_of_several: bool = False) -> Account:
        """The account ``ref`` names (appid or id); with no ref, the only account (the
        one rule: :func:`wxqr.service.accounts.resolve_account`), within the scope."""
        if self.access is not None:
            return self.access.resolve(ref, first_of_several=first_of_several)
        return resolve_account(self.engine, ref, first_of_several=first_of_several)

    @property
    def channel_codes(self) -> ChannelCodes:
        """The create-a-channel-with-its-first-code use case."""
        return ChannelCodes(self.channels, self.codes)

    @property
    def quotas(self) -> QuotaService:
        """lifecycle: WeChat's daily qrcode/create quota and the permanent-code cap."""
        return QuotaService(self.engine, self.clients.client, clock=self.clock)

    @property
    def lifecycle(self) -> CodeLifecycle:
        """lifecycle: auto-renewal settings, expiring codes, the renewal chore."""
        images = self.images
        return CodeLifecycle(
            self.engine,
            self.codes,
            quotas=self.quotas,
            warm=lambda code: images.image(code, ImageSpec()),
            clock=self.clock,
            default_lead_seconds=self.settings.renew_lead_seconds,
            expiring_notice_seconds=self.settings.expiring_notice_seconds,
            access=self.access,
        )

    def account_of_channel(self, channel_id: int) -> Account:
        channel = self.channels.get(channel_id)
        account = get_account_by_id(self.engine, channel.account_id)
        if account is None:  # pragma: no cover - cascaded with the account
            raise NotFoundError(f"no account for channel {channel_id}")
        return account

    # stats-retention: audience, retention, reconciliation (wxqr.service.stats.insights)
    @property
    def insights(self) -> StatsInsights:
        check = self.access.check_account_id if self.access is not None else None
        return StatsInsights(
            self.engine,
            self.clients.client,
            clock=self.clock,
            **({"check": check} if check is not None else {}),
        )
