"""Channels: the promotion channels (posters, shops, salespeople, orders) codes belong to.

A channel has a name unique per account, an optional group and tags, an optional business
payload (any JSON: the scene may stand for an order or any other object), an optional
passive reply (the JSON shapes of :mod:`wxqr.service.replies`), the WeChat user tags to
apply to a follower who scans it, and a status (active or archived). Channels are never
deleted: the event log keeps pointing at them. Their codes live in :mod:`.codes`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, TypeAlias

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from wxqr.protocol import Reply
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError
from wxqr.service.replies import InvalidReply, parse_reply_spec, reply_from_input, reply_spec
from wxqr.store.tables import accounts, channels, events, scenes

__all__ = [
    "UNSET",
    "Channel",
    "ChannelPatch",
    "ChannelService",
    "ChannelStatus",
    "JSONValue",
    "NewChannel",
    "SceneReply",
    "Unset",
    "validate_name",
]

JSONValue: TypeAlias = dict[str, "JSONValue"] | list["JSONValue"] | str | int | float | bool | None

MAX_NAME = 200
MAX_TAG = 64
MAX_TAGS = 32
MAX_PAYLOAD_BYTES = 16 * 1024


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class Unset(Enum):
    """Marks a :class:`ChannelPatch` field left unchanged."""

    UNSET = "unset"


UNSET = Unset.UNSET


@dataclass(frozen=True, slots=True)
class Channel:
    id: int
    account_id: int
    name: str
    group: str | None
    tags: tuple[str, ...]
    payload: JSONValue
    reply: Reply | None
    follower_tags: tuple[str, ...]
    status: ChannelStatus
    created_at: int
    updated_at: int

    @property
    def archived(self) -> bool:
        return self.status is ChannelStatus.ARCHIVED

    def reply_json(self) -> dict[str, Any] | None:
        """The reply in its stored JSON shape (``None`` when the channel has none)."""
        return None if self.reply is None else reply_spec(self.reply)


@dataclass(frozen=True, slots=True)
class NewChannel:
    name: str
    group: str | None = None
    tags: tuple[str, ...] = ()
    payload: JSONValue = None
    reply: Reply | None = None
    follower_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelPatch:
    """The fields to change; :data:`UNSET` leaves one as it is, ``None`` clears it."""

    name: str | Unset = UNSET
    group: str | Unset | None = UNSET
    tags: tuple[str, ...] | Unset = UNSET
    payload: JSONValue | Unset = UNSET
    reply: Reply | Unset | None = UNSET
    follower_tags: tuple[str, ...] | Unset = UNSET
    status: ChannelStatus | Unset = UNSET


def validate_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInputError("a channel needs a name", field="name")
    if len(cleaned) > MAX_NAME:
        raise InvalidInputError(f"a channel name is at most {MAX_NAME} characters", field="name")
    return cleaned


def _group(group: str | None) -> str | None:
    if group is None or not group.strip():
        return None
    cleaned = group.strip()
    if len(cleaned) > MAX_NAME:
        raise InvalidInputError(f"a group name is at most {MAX_NAME} characters", field="group")
    return cleaned


def _tags(values: Iterable[str], field: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if not isinstance(value, str):
            raise InvalidInputError(f"{field} must be strings", field=field)
        tag = value.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise InvalidInputError(f"each of {field} is at most {MAX_TAG} characters", field=field)
        seen.setdefault(tag)
    if len(seen) > MAX_TAGS:
        raise InvalidInputError(f"at most {MAX_TAGS} {field}", field=field)
    return tuple(seen)


def _payload(value: JSONValue) -> JSONValue:
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInputError("the payload must be JSON", field="payload") from None
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise InvalidInputError(
            f"the payload is larger than {MAX_PAYLOAD_BYTES} bytes of JSON", field="payload"
        )
    return value


def parse_reply(value: object) -> Reply | None:
    """A reply from its JSON shape (``None`` for no reply), or :class:`InvalidReply` (an
    invalid input); see :func:`wxqr.service.replies.reply_from_input`."""
    if value is not None and not isinstance(value, Mapping):
        raise InvalidReply("a reply must be an object with a 'type'")
    return reply_from_input(value)


def _channel(row: RowMapping) -> Channel:
    reply = row["reply"]
    return Channel(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        group=row["group_name"],
        tags=tuple(row["tags"] or ()),
        payload=row["payload"],
        reply=None if reply is None else parse_reply_spec(reply),
        follower_tags=tuple(row["follower_tags"] or ()),
        status=ChannelStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@dataclass(frozen=True, slots=True)
class SceneReply:
    """One scene (code) of a channel and its own reply (``None``: the channel's applies)."""

    scene: str
    kind: str  # the code's kind: permanent | temporary
    reply: Reply | None
    created_at: int


class ChannelService:
    """Create, read, change and archive channels. Synchronous; safe to share between threads."""

    def __init__(
        self,
        engine: Engine,
        *,
        catalog: CatalogVersion,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._catalog = catalog  # bumped after changes the webhook caches
        self._clock = clock

    def create(self, account_id: int, spec: NewChannel) -> Channel:
        with self._engine.begin() as conn:
            return self.create_in(conn, account_id, spec)

    def create_in(self, conn: Connection, account_id: int, spec: NewChannel) -> Channel:
        """Create a channel inside the caller's transaction (used by bulk imports)."""
        name = validate_name(spec.name)
        if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is None:
            raise NotFoundError(f"no account with id {account_id}", field="account")
        self._check_free_name(conn, account_id, name, None)
        now = int(self._clock())
        values = {
            "account_id": account_id,
            "name": name,
            "group_name": _group(spec.group),
            "tags": list(_tags(spec.tags, "tags")),
            "payload": _payload(spec.payload),
            "reply": None if spec.reply is None else reply_spec(spec.reply),
            "follower_tags": list(_tags(spec.follower_tags, "follower_tags")),
            "status": ChannelStatus.ACTIVE.value,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with conn.begin_nested():
                result = conn.execute(insert(channels).values(values))
                key = result.inserted_primary_key
                new_id = int(key[0]) if key is not None else 0
        except IntegrityError:
            raise ConflictError(f"a channel named {name!r} already exists", field="name") from None
        return self._get(conn, new_id)

    def get(self, channel_id: int) -> Channel:
        with self._engine.connect() as conn:
            return self._get(conn, channel_id)

    def find(self, account_id: int, ref: str) -> Channel:
        """The channel named ``ref`` in the account, else the one whose id is ``ref``."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(channels).where(
                        channels.c.account_id == account_id, channels.c.name == ref.strip()
                    )
                )
                .mappings()
                .first()
            )
            if row is not None:
                return _channel(row)
            if ref.strip().isdigit():
                channel = self._get(conn, int(ref))
                if channel.account_id == account_id:
                    return channel
        raise NotFoundError(f"no channel named or numbered {ref!r} in this account")

    def list_channels(
        self,
        account_id: int,
        *,
        group: str | None = None,
        status: ChannelStatus | None = None,
        tag: str | None = None,
        ids: Sequence[int] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Channel]:
        query = select(channels).where(channels.c.account_id == account_id)
        if group is not None:
            query = query.where(channels.c.group_name == group)
        if status is not None:
            query = query.where(channels.c.status == status.value)
        if ids is not None:
            query = query.where(channels.c.id.in_(list(ids)))
        query = query.order_by(channels.c.id).offset(offset)
        if limit is not None and tag is None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            found = [_channel(row) for row in conn.execute(query).mappings()]
        if tag is not None:  # JSON containment is not portable: filter here
            found = [c for c in found if tag in c.tags]
            if limit is not None:
                found = found[:limit]
        return found

    def count(self, account_id: int, *, status: ChannelStatus | None = None) -> int:
        query = select(func.count()).select_from(channels)
        query = query.where(channels.c.account_id == account_id)
        if status is not None:
            query = query.where(channels.c.status == status.value)
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def groups(self, account_id: int) -> list[str]:
        query = (
            select(channels.c.group_name)
            .where(channels.c.account_id == account_id, channels.c.group_name.is_not(None))
            .distinct()
            .order_by(channels.c.group_name)
        )
        with self._engine.connect() as conn:
            return [str(name) for name in conn.execute(query).scalars()]

    def update(self, channel_id: int, patch: ChannelPatch) -> Channel:
        with self._engine.begin() as conn:
            current = self._get(conn, channel_id)
            values: dict[str, Any] = {}
            if not isinstance(patch.name, Unset):
                name = validate_name(patch.name)
                if name != current.name:
                    self._check_free_name(conn, current.account_id, name, channel_id)
                values["name"] = name
            if not isinstance(patch.group, Unset):
                values["group_name"] = _group(patch.group)
            if not isinstance(patch.tags, Unset):
                values["tags"] = list(_tags(patch.tags, "tags"))
            if not isinstance(patch.payload, Unset):
                values["payload"] = _payload(patch.payload)
            if not isinstance(patch.reply, Unset):
                values["reply"] = None if patch.reply is None else reply_spec(patch.reply)
            if not isinstance(patch.follower_tags, Unset):
                values["follower_tags"] = list(_tags(patch.follower_tags, "follower_tags"))
            if not isinstance(patch.status, Unset):
                values["status"] = ChannelStatus(patch.status).value
            if values:
                values["updated_at"] = int(self._clock())
                try:
                    with conn.begin_nested():
                        conn.execute(
                            update(channels).where(channels.c.id == channel_id).values(values)
                        )
                except IntegrityError:
                    raise ConflictError("a channel with that name already exists") from None
            changed = self._get(conn, channel_id)
        self._catalog.bump()  # the webhook caches replies and follower tags per scene
        return changed

    # dashboard-team: per-scene replies (scenes.reply overrides the channel's reply)
    def scene_replies(self, channel_id: int) -> list[SceneReply]:
        """The channel's scenes, oldest first, each with its own reply if it has one."""
        query = (
            select(scenes.c.scene, scenes.c.qr_kind, scenes.c.reply, scenes.c.created_at)
            .where(scenes.c.channel_id == channel_id)
            .order_by(scenes.c.created_at, scenes.c.id)
        )
        with self._engine.connect() as conn:
            self._get(conn, channel_id)
            rows = conn.execute(query).all()
        return [
            SceneReply(
                scene=str(r.scene),
                kind=str(r.qr_kind),
                reply=None if r.reply is None else parse_reply_spec(r.reply),
                created_at=int(r.created_at),
            )
            for r in rows
        ]

    def set_scene_reply(self, channel_id: int, scene: str, reply: Reply | None) -> SceneReply:
        """Give one scene of the channel its own reply (``None``: the channel's again)."""
        with self._engine.begin() as conn:
            self._get(conn, channel_id)
            done = conn.execute(
                update(scenes)
                .where(scenes.c.channel_id == channel_id, scenes.c.scene == scene)
                .values(reply=None if reply is None else reply_spec(reply))
            )
            if not done.rowcount:
                raise NotFoundError(f"channel {channel_id} has no scene {scene!r}", field="scene")
        self._catalog.bump()  # the webhook caches replies per scene
        return next(r for r in self.scene_replies(channel_id) if r.scene == scene)

    def archive(self, channel_id: int) -> Channel:
        """Archive the channel: its codes keep working and counting, it leaves the lists."""
        return self.update(channel_id, ChannelPatch(status=ChannelStatus.ARCHIVED))

    def restore(self, channel_id: int) -> Channel:
        return self.update(channel_id, ChannelPatch(status=ChannelStatus.ACTIVE))

    def discard_unused(self, channel_id: int) -> bool:
        """Delete a channel that has no code and no event (an import row that failed)."""
        with self._engine.begin() as conn:
            used = (
                conn.execute(
                    select(scenes.c.id).where(scenes.c.channel_id == channel_id).limit(1)
                ).first()
                or conn.execute(
                    select(events.c.id).where(events.c.channel_id == channel_id).limit(1)
                ).first()
            )
            if used is not None:
                return False
            done = conn.execute(delete(channels).where(channels.c.id == channel_id))
            return bool(done.rowcount)

    @staticmethod
    def _get(conn: Connection, channel_id: int) -> Channel:
        row = conn.execute(select(channels).where(channels.c.id == channel_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no channel with id {channel_id}")
        return _channel(row)

    @staticmethod
    def _check_free_name(conn: Connection, account_id: int, name: str, own_id: int | None) -> None:
        query = select(channels.c.id).where(
            channels.c.account_id == account_id, channels.c.name == name
        )
        found = conn.execute(query).scalar()
        if found is not None and found != own_id:
            raise ConflictError(
                f"a channel named {name!r} already exists (id {found})", field="name"
            )
