"""The few look-ups the stats need: accounts, their channels, channel references and groups."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, RowMapping, select

from wxqr.store.tables import accounts, channels

from ._errors import StatsError, UnknownAccount, UnknownChannel
from ._model import AccountRef, ChannelRef
from ._window import DEFAULT_TIMEZONE

__all__ = [
    "ID_PREFIX",
    "NAME_PREFIX",
    "account_by_id",
    "channel_by_id",
    "channel_refs",
    "resolve_channel",
    "scope_channel_ids",
]

_ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.appid, accounts.c.name, accounts.c.timezone)
_CHANNEL_COLUMNS = (channels.c.id, channels.c.name, channels.c.group_name, channels.c.status)


def _account(row: RowMapping) -> AccountRef:
    return AccountRef(
        id=int(row["id"]),
        appid=str(row["appid"]),
        name=str(row["name"] or ""),
        timezone=str(row["timezone"] or DEFAULT_TIMEZONE),
    )


def _channel(row: RowMapping) -> ChannelRef:
    return ChannelRef(
        id=int(row["id"]),
        name=str(row["name"]),
        group=row["group_name"],
        status=str(row["status"]),
    )


def account_by_id(conn: Connection, account_id: int) -> AccountRef:
    row = conn.execute(select(*_ACCOUNT_COLUMNS).where(accounts.c.id == account_id)).mappings()
    found = row.first()
    if found is None:
        raise UnknownAccount(f"no account with id {account_id}")
    return _account(found)


def channel_refs(
    conn: Connection, account_id: int, *, group: str | None = None
) -> list[ChannelRef]:
    query = select(*_CHANNEL_COLUMNS).where(channels.c.account_id == account_id)
    if group is not None:
        query = query.where(channels.c.group_name == group)
    return [_channel(row) for row in conn.execute(query.order_by(channels.c.id)).mappings()]


#: Channel ids are 32-bit INTEGER columns: a larger number can be no channel's id.
_MAX_ROW_ID = 2**31 - 1


def channel_by_id(conn: Connection, account_id: int, channel_id: int) -> ChannelRef:
    """The account's channel with this id."""
    if not 0 < channel_id <= _MAX_ROW_ID:  # PostgreSQL would fail on it: no such channel
        raise UnknownChannel(f"no channel with id {channel_id} in this account")
    query = select(*_CHANNEL_COLUMNS).where(
        channels.c.account_id == account_id, channels.c.id == channel_id
    )
    found = conn.execute(query).mappings().first()
    if found is None:
        raise UnknownChannel(f"no channel with id {channel_id} in this account")
    return _channel(found)


#: Prefixes that say what a channel reference is: ``id:3``, ``name:3``.
ID_PREFIX = "id:"
NAME_PREFIX = "name:"


def resolve_channel(conn: Connection, account_id: int, ref: str) -> ChannelRef:
    """The account's channel ``ref`` refers to (docs/api.md, "Channel references").

    ``id:N`` is the channel with id N, ``name:X`` the one named X. A plain reference is
    the channel named so, or the one with that id; when it is both the name of one channel
    and the id of another it is ambiguous (422): say ``id:`` or ``name:``.
    """
    text = ref.strip()
    base = select(*_CHANNEL_COLUMNS).where(channels.c.account_id == account_id)
    if text.startswith(ID_PREFIX):
        number = text[len(ID_PREFIX) :].strip()
        if not (number.isdecimal() and len(number) < 11):
            raise StatsError(f"{text!r}: id: takes a channel id (digits)", field="channel")
        return channel_by_id(conn, account_id, int(number))
    if text.startswith(NAME_PREFIX):
        name = text[len(NAME_PREFIX) :].strip()
        named = conn.execute(base.where(channels.c.name == name)).mappings().first()
        if named is None:
            raise UnknownChannel(f"no channel named {name!r} in this account")
        return _channel(named)
    found = conn.execute(base.where(channels.c.name == text)).mappings().first()
    numbered = None
    if text.isdecimal() and len(text) < 11 and 0 < int(text) <= _MAX_ROW_ID:
        numbered = conn.execute(base.where(channels.c.id == int(text))).mappings().first()
    if found is not None and numbered is not None and found["id"] != numbered["id"]:
        raise StatsError(
            f"{text!r} is both the name of channel {found['id']} and the id of channel "
            f"{numbered['name']!r}: say id:{text} or name:{text}",
            field="channel",
        )
    found = found if found is not None else numbered
    if found is None:
        raise UnknownChannel(f"no channel named or numbered {text!r} in this account")
    return _channel(found)


def scope_channel_ids(
    conn: Connection, account_id: int, channel_ids: Iterable[int] | None, group: str | None
) -> tuple[int, ...] | None:
    """The channel ids a query is restricted to (None: the whole account).

    Every id must be one of the account's channels; a group must have channels. Both
    given: the channels in both.
    """
    if channel_ids is None and group is None:
        return None
    selected: set[int] | None = None
    if channel_ids is not None:
        wanted = {int(channel_id) for channel_id in channel_ids}
        beyond = sorted(i for i in wanted if not 0 < i <= _MAX_ROW_ID)
        if beyond:
            raise UnknownChannel(f"no channel with id {beyond[0]} in this account")
        if wanted:
            known_query = select(channels.c.id).where(
                channels.c.account_id == account_id, channels.c.id.in_(sorted(wanted))
            )
            known = set(conn.execute(known_query).scalars())
            missing = sorted(wanted - known)
            if missing:
                raise UnknownChannel(f"no channel with id {missing[0]} in this account")
        selected = wanted
    if group is not None:
        in_group = {channel.id for channel in channel_refs(conn, account_id, group=group)}
        if not in_group:
            raise UnknownChannel(f"no channel in group {group!r} in this account")
        selected = in_group if selected is None else selected & in_group
    return tuple(sorted(selected or ()))
