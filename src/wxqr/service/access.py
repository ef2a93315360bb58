"""What an API key may touch: its :class:`AccessScope`, enforced by scoped services.

A key's scope names the accounts it may touch (some appids, or every account) and
whether it may only read. The REST API never checks a scope by hand per endpoint: each
request gets ``workspace.scoped(key.scope)`` (:meth:`wxqr.service.workspace.Workspace.scoped`),
a workspace whose account look-ups and channel, code, image and stats services are the
subclasses below. They refuse, in the service layer, everything outside the scope:

* an object of another account is *not found* (:class:`NotFoundError`, the same message
  as for an object that does not exist, so a key cannot probe other accounts);
* lists and the default account are those of the scope's accounts only;
* a write with a read-only scope is *forbidden* (:class:`ForbiddenError`).

Every public method of the scoped services' bases is overridden here (a test checks it),
so a method added to a service later cannot silently escape the scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine

from wxqr.protocol import Reply
from wxqr.service.accounts import Account, UnknownAccount, list_accounts, resolve_account
from wxqr.service.channels import (
    Channel,
    ChannelPatch,
    ChannelService,
    ChannelStatus,
    NewChannel,
    SceneReply,
)
from wxqr.service.code_images import CodeImage, CodeImages, ImageSpec
from wxqr.service.codes import Code, CodeService, CodeSpec, PermanentUsage, ResumedReservations
from wxqr.service.errors import ForbiddenError, InvalidInputError, NotFoundError
from wxqr.service.stats import (
    AccountRef,
    ChannelMetrics,
    ChannelRef,
    Compared,
    GroupMetrics,
    Metrics,
    OrphanScan,
    SeriesPoint,
    SessionMetrics,
    SplitSeries,
    StatsQuery,
    StatsService,
    Window,
)
from wxqr.service.webhooks import CreatedEndpoint, Delivery, Endpoint, WebhookService
from wxqr.service.webhooks._service import ROTATION_OVERLAP_SECONDS

__all__ = [
    "FULL_ACCESS",
    "AccessScope",
    "AccountAccess",
    "ScopedChannelService",
    "ScopedCodeImages",
    "ScopedCodeService",
    "ScopedStatsService",
]


@dataclass(frozen=True, slots=True)
class AccessScope:
    """The accounts a caller may touch (``appids``; ``None`` = every account, also ones
    added later) and whether it may only read (``read_only``)."""

    appids: frozenset[str] | None = None
    read_only: bool = False

    @property
    def all_accounts(self) -> bool:
        return self.appids is None

    def allows(self, appid: str) -> bool:
        return self.appids is None or appid in self.appids

    def describe(self) -> str:
        """E.g. ``"all accounts; read-write"`` or ``"wx1, wx2; read-only"``."""
        where = "all accounts" if self.appids is None else ", ".join(sorted(self.appids))
        return f"{where}; {'read-only' if self.read_only else 'read-write'}"


#: Every account, read and write: the CLI's, the dashboard admin's, keys made before scopes.
FULL_ACCESS = AccessScope()


class AccountAccess:
    """An :class:`AccessScope` resolved against the store: which account ids it allows.

    One is made per request (the ids are read once, on first use), so an account added
    while a key exists is in an all-accounts scope from the next request on.
    """

    def __init__(self, engine: Engine, scope: AccessScope) -> None:
        self._engine = engine
        self.scope = scope

    @cached_property
    def _accounts(self) -> list[Account]:
        return [a for a in list_accounts(self._engine) if self.scope.allows(a.appid)]

    @cached_property
    def _ids(self) -> frozenset[int]:
        return frozenset(a.id for a in self._accounts)

    def allows_id(self, account_id: int) -> bool:
        return account_id in self._ids

    def accounts(self) -> list[Account]:
        return list(self._accounts)

    def check_account_id(self, account_id: int) -> None:
        if not self.allows_id(account_id):
            raise UnknownAccount(f"no account with id {account_id}")

    def require_write(self) -> None:
        if self.scope.read_only:
            raise ForbiddenError("this API key is read-only: it cannot change anything")

    def resolve(self, ref: str | int | None = None, *, first_of_several: bool = False) -> Account:
        """:func:`resolve_account` within the scope: with no ref, the scope's only account
        (or first, with ``first_of_several``); an account outside it is unknown."""
        if ref is None or ref == "":
            found = self._accounts
            if len(found) == 1 or (found and first_of_several):
                return found[0]
            if not found:
                raise UnknownAccount("this API key may touch no configured account")
            raise InvalidInputError(
                "this API key may touch several accounts: say which one (appid) with `account`",
                field="account",
            )
        account = resolve_account(self._engine, ref)
        if not self.allows_id(account.id):
            named = f"appid {ref.strip()!r}" if isinstance(ref, str) else f"id {ref}"
            raise UnknownAccount(f"no account with {named}")
        return account


_Service = TypeVar("_Service")


def _narrowed(cls: type[_Service], base: object, access: AccountAccess) -> _Service:
    """An instance of ``cls`` (a subclass of ``base``'s class) sharing ``base``'s state."""
    scoped = cls.__new__(cls)
    vars(scoped).update(vars(base))
    vars(scoped)["_access"] = access
    return scoped


class ScopedChannelService(ChannelService):
    """:class:`ChannelService` limited to an :class:`AccountAccess`."""

    _access: AccountAccess

    @classmethod
    def over(cls, base: ChannelService, access: AccountAccess) -> Self:
        return _narrowed(cls, base, access)

    def _mine(self, channel_id: int) -> Channel:
        channel = super().get(channel_id)
        if not self._access.allows_id(channel.account_id):
            raise NotFoundError(f"no channel with id {channel_id}")
        return channel

    def create(self, account_id: int, spec: NewChannel) -> Channel:
        self._access.check_account_id(account_id)
        self._access.require_write()
        return super().create(account_id, spec)

    def create_in(self, conn: Connection, account_id: int, spec: NewChannel) -> Channel:
        self._access.check_account_id(account_id)
        self._access.require_write()
        return super().create_in(conn, account_id, spec)

    def get(self, channel_id: int) -> Channel:
        return self._mine(channel_id)

    def find(self, account_id: int, ref: str) -> Channel:
        self._access.check_account_id(account_id)
        return super().find(account_id, ref)

    def list_channels(self, account_id: int, *args: Any, **kwargs: Any) -> list[Channel]:
        self._access.check_account_id(account_id)
        return super().list_channels(account_id, *args, **kwargs)

    def count(self, account_id: int, *, status: ChannelStatus | None = None) -> int:
        self._access.check_account_id(account_id)
        return super().count(account_id, status=status)

    def groups(self, account_id: int) -> list[str]:
        self._access.check_account_id(account_id)
        return super().groups(account_id)

    def update(self, channel_id: int, patch: ChannelPatch) -> Channel:
        self._mine(channel_id)
        self._access.require_write()
        return super().update(channel_id, patch)

    def archive(self, channel_id: int) -> Channel:
        self._mine(channel_id)
        self._access.require_write()
        return super().archive(channel_id)

    def scene_replies(self, channel_id: int) -> list[SceneReply]:
        self._mine(channel_id)
        return super().scene_replies(channel_id)

    def set_scene_reply(self, channel_id: int, scene: str, reply: Reply | None) -> SceneReply:
        self._mine(channel_id)
        self._access.require_write()
        return super().set_scene_reply(channel_id, scene, reply)

    def restore(self, channel_id: int) -> Channel:
        self._mine(channel_id)
        self._access.require_write()
        return super().restore(channel_id)

    def discard_unused(self, channel_id: int) -> bool:
        self._mine(channel_id)
        self._access.require_write()
        return super().discard_unused(channel_id)


class ScopedCodeService(CodeService):
    """:class:`CodeService` limited to an :class:`AccountAccess`."""

    _access: AccountAccess

    @classmethod
    def over(cls, base: CodeService, access: AccountAccess) -> Self:
        return _narrowed(cls, base, access)

    def _check_channel(self, channel_id: int) -> None:
        ScopedChannelService.over(
            ChannelService(self._engine, catalog=self._catalog), self._access
        ).get(channel_id)

    def get(self, code_id: int) -> Code:
        code = super().get(code_id)
        if not self._access.allows_id(code.account_id):
            raise NotFoundError(f"no code with id {code_id}")
        return code

    def codes_of(self, channel_id: int) -> list[Code]:
        self._check_channel(channel_id)
        return super().codes_of(channel_id)

    def current_codes(self, channel_ids: list[int]) -> dict[int, Code]:
        found = super().current_codes(channel_ids)
        return {cid: c for cid, c in found.items() if self._access.allows_id(c.account_id)}

    def current_code(self, channel_id: int) -> Code | None:
        self._check_channel(channel_id)
        return super().current_code(channel_id)

    def permanent_usage(self, account_id: int) -> PermanentUsage:
        self._access.check_account_id(account_id)
        return super().permanent_usage(account_id)

    def issue(self, channel_id: int, spec: CodeSpec) -> Code:
        self._check_channel(channel_id)
        self._access.require_write()
        return super().issue(channel_id, spec)

    def renew(self, code_id: int) -> Code:  # lifecycle:
        self.get(code_id)
        self._access.require_write()
        return super().renew(code_id)

    def resume_abandoned(self, *args: Any, **kwargs: Any) -> ResumedReservations:
        # A chore over every account: never a scoped caller's to run.
        raise ForbiddenError("resuming reservations needs access to every account")


class ScopedCodeImages(CodeImages):
    """:class:`CodeImages` limited to an :class:`AccountAccess`."""

    _access: AccountAccess

    @classmethod
    def over(cls, base: CodeImages, access: AccountAccess) -> Self:
        return _narrowed(cls, base, access)

    def image(self, code: Code, spec: ImageSpec) -> CodeImage:
        if not self._access.allows_id(code.account_id):
            raise NotFoundError(f"no code with id {code.id}")
        return super().image(code, spec)


class ScopedStatsService(StatsService):
    """:class:`StatsService` limited to an :class:`AccountAccess` (read-only anyway)."""

    _access: AccountAccess

    @classmethod
    def over(cls, base: StatsService, access: AccountAccess) -> Self:
        return _narrowed(cls, base, access)

    def _check(self, account_id: int) -> None:
        self._access.check_account_id(account_id)

    def account(self, account_id: int) -> AccountRef:
        self._check(account_id)
        return super().account(account_id)

    def account_by_appid(self, appid: str) -> AccountRef:
        return super().account(self._access.resolve(appid.strip()).id)

    def default_account(self) -> AccountRef:
        return super().account(self._access.resolve().id)

    def channels(self, account_id: int, *, group: str | None = None) -> list[ChannelRef]:
        self._check(account_id)
        return super().channels(account_id, group=group)

    def resolve_channel(self, account_id: int, ref: str) -> ChannelRef:
        self._check(account_id)
        return super().resolve_channel(account_id, ref)

    def window(self, account_id: int, date_from: date, date_to: date) -> Window:
        self._check(account_id)
        return super().window(account_id, date_from, date_to)

    def today(self, timezone: str) -> date:
        return super().today(timezone)  # no account data

    def query(self, account: str | int | None = None, **kwargs: Any) -> StatsQuery:
        return super().query(self._access.resolve(account).id, **kwargs)

    def summary_of(self, query: StatsQuery) -> Metrics:
        self._check(query.account.id)
        return super().summary_of(query)

    def channels_of(self, query: StatsQuery) -> list[ChannelMetrics]:
        self._check(query.account.id)
        return super().channels_of(query)

    def groups_of(self, query: StatsQuery) -> list[GroupMetrics]:
        self._check(query.account.id)
        return super().groups_of(query)

    def series_of(self, query: StatsQuery) -> list[SeriesPoint]:
        self._check(query.account.id)
        return super().series_of(query)

    def top_of(self, query: StatsQuery, by: str = "scans", limit: int = 10) -> list[ChannelMetrics]:
        self._check(query.account.id)
        return super().top_of(query, by=by, limit=limit)

    def orphans_of(self, query: StatsQuery) -> list[OrphanScan]:
        self._check(query.account.id)
        return super().orphans_of(query)

    def summary(self, account_id: int, *args: Any, **kwargs: Any) -> Metrics:
        self._check(account_id)
        return super().summary(account_id, *args, **kwargs)

    def per_channel(self, account_id: int, *args: Any, **kwargs: Any) -> list[ChannelMetrics]:
        self._check(account_id)
        return super().per_channel(account_id, *args, **kwargs)

    def per_group(self, account_id: int, *args: Any, **kwargs: Any) -> list[GroupMetrics]:
        self._check(account_id)
        return super().per_group(account_id, *args, **kwargs)

    def series(self, account_id: int, *args: Any, **kwargs: Any) -> list[SeriesPoint]:
        self._check(account_id)
        return super().series(account_id, *args, **kwargs)

    def top_channels(self, account_id: int, *args: Any, **kwargs: Any) -> list[ChannelMetrics]:
        self._check(account_id)
        return super().top_channels(account_id, *args, **kwargs)

    def sessions_of(self, query: StatsQuery) -> list[SessionMetrics]:
        self._check(query.account.id)
        return super().sessions_of(query)

    def per_session_purpose(self, account_id: int, window: Window) -> list[SessionMetrics]:
        self._check(account_id)
        return super().per_session_purpose(account_id, window)

    def orphan_scans(self, account_id: int, window: Window) -> list[OrphanScan]:
        self._check(account_id)
        return super().orphan_scans(account_id, window)

    def compared_summary_of(self, query: StatsQuery) -> Compared[Metrics]:
        self._check(query.account.id)
        return super().compared_summary_of(query)

    def compared_channels_of(self, query: StatsQuery) -> list[Compared[ChannelMetrics]]:
        self._check(query.account.id)
        return super().compared_channels_of(query)

    def compared_groups_of(self, query: StatsQuery) -> list[Compared[GroupMetrics]]:
        self._check(query.account.id)
        return super().compared_groups_of(query)

    def compared_series_of(self, query: StatsQuery) -> list[Compared[SeriesPoint]]:
        self._check(query.account.id)
        return super().compared_series_of(query)

    def split_series_of(self, query: StatsQuery) -> list[SplitSeries]:
        self._check(query.account.id)
        return super().split_series_of(query)


class ScopedWebhookService(WebhookService):
    """:class:`WebhookService` limited to an :class:`AccountAccess`.

    A key sees the endpoints of its accounts; an endpoint for every account (no
    ``account``) belongs to keys for every account alone, since it receives every
    account's events. Endpoints out of sight are not found, as if they did not exist.
    """

    _access: AccountAccess

    @classmethod
    def over(cls, base: WebhookService, access: AccountAccess) -> Self:
        return _narrowed(cls, base, access)

    def _visible(self, account_id: int | None) -> bool:
        if account_id is None:
            return self._access.scope.all_accounts
        return self._access.allows_id(account_id)

    def _row(self, endpoint_id: int) -> Any:
        row = super()._row(endpoint_id)
        if not self._visible(row.account_id):
            raise NotFoundError(f"no webhook endpoint {endpoint_id}", field="id")
        return row

    def create(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        account: str | None = None,
        description: str | None = None,
    ) -> CreatedEndpoint:
        self._access.require_write()
        if account is None or account == "":
            if not self._access.scope.all_accounts:
                raise ForbiddenError(
                    "an endpoint for every account needs an API key for every account: "
                    "name the account",
                )
        else:
            self._access.check_account_id(self._access.resolve(account).id)
        return super().create(url, event_types, account=account, description=description)

    def list_endpoints(self) -> list[Endpoint]:
        return [e for e in super().list_endpoints() if self._visible(e.account_id)]

    def update(
        self,
        endpoint_id: int,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> Endpoint:
        self._row(endpoint_id)
        self._access.require_write()
        return super().update(
            endpoint_id,
            url=url,
            event_types=event_types,
            enabled=enabled,
            description=description,
        )

    def remove(self, endpoint_id: int) -> Endpoint:
        self._row(endpoint_id)
        self._access.require_write()
        return super().remove(endpoint_id)

    def rotate_secret(
        self, endpoint_id: int, *, overlap_seconds: int = ROTATION_OVERLAP_SECONDS
    ) -> CreatedEndpoint:
        self._row(endpoint_id)
        self._access.require_write()
        return super().rotate_secret(endpoint_id, overlap_seconds=overlap_seconds)

    def send_test(self, endpoint_id: int) -> Delivery:
        self._row(endpoint_id)
        self._access.require_write()
        return super().send_test(endpoint_id)

    def retry(self, endpoint_id: int, delivery_id: int) -> Delivery:
        self._row(endpoint_id)
        self._access.require_write()
        return super().retry(endpoint_id, delivery_id)

    def replay(self, endpoint_id: int, since: int, until: int | None = None) -> int:
        self._row(endpoint_id)
        self._access.require_write()
        return super().replay(endpoint_id, since, until)
