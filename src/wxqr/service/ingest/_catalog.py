"""In-memory cache of scene lookups, so the hot path reads the database only on a miss.

Known scenes are cached for ``ttl`` seconds (edits made by other processes show up within
that time); unknown scenes are never cached, so a scene registered a moment before its
first scan is not taken for an orphan. Edits made in this process bump the
:class:`~wxqr.service.catalog_version.CatalogVersion` the cache was given, which empties
it before the next lookup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select, tuple_

from wxqr.protocol import Reply
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.replies import InvalidReply, parse_reply_spec
from wxqr.store import tables as t

from ._model import SceneInfo

__all__ = ["SceneCatalog"]

log = logging.getLogger(__name__)


def _reply(value: Any, what: str) -> Reply | None:
    if value is None:
        return None
    try:
        return parse_reply_spec(value)
    except InvalidReply as exc:
        log.warning("ignoring an invalid stored reply of %s: %s", what, exc)
        return None


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(tag) for tag in value if isinstance(tag, str) and tag)


class SceneCatalog:
    """Scene lookups by (account_id, scene), cached for ``ttl`` seconds and emptied when
    ``version`` moves (a fresh version, that nobody bumps, when none is given)."""

    def __init__(
        self,
        version: CatalogVersion | None = None,
        *,
        ttl: float = 5.0,
        max_entries: int = 100_000,
    ) -> None:
        self._version = version or CatalogVersion()
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[tuple[int, str], tuple[float, SceneInfo]] = {}
        self._seen = self._version.current

    def clear(self) -> None:
        """Forget every cached scene (the writer process does so when the serving
        process's catalog version changes)."""
        self._entries.clear()

    def _fresh(self) -> None:
        current = self._version.current
        if self._seen != current:
            self._entries.clear()
            self._seen = current

    def resolve(
        self, conn: Connection, wanted: Iterable[tuple[int, str]]
    ) -> Mapping[tuple[int, str], SceneInfo]:
        """Known scenes among ``wanted``: from the cache, the rest in one query."""
        self._fresh()
        version = self._seen
        now = time.monotonic()
        found: dict[tuple[int, str], SceneInfo] = {}
        missing: set[tuple[int, str]] = set()
        for key in wanted:
            cached = self._entries.get(key)
            if cached is not None and cached[0] > now:
                found[key] = cached[1]
            else:
                missing.add(key)
        if missing:
            loaded = self._load(conn, missing)
            found.update(loaded)
            if version != self._version.current:
                return found  # changed while we read: these rows may predate the change
            if len(self._entries) + len(loaded) > self._max:
                self._entries.clear()
            expires = now + self._ttl
            for key, info in loaded.items():
                self._entries[key] = (expires, info)
        return found

    @staticmethod
    def _load(conn: Connection, keys: set[tuple[int, str]]) -> dict[tuple[int, str], SceneInfo]:
        s, c = t.scenes, t.channels
        query = (
            select(
                s.c.id,
                s.c.account_id,
                s.c.scene,
                s.c.channel_id,
                s.c.reply,
                c.c.reply.label("channel_reply"),
                c.c.follower_tags,
            )
            .select_from(s.outerjoin(c, c.c.id == s.c.channel_id))
            .where(tuple_(s.c.account_id, s.c.scene).in_(sorted(keys)))
        )
        loaded: dict[tuple[int, str], SceneInfo] = {}
        for row in conn.execute(query).mappings():
            loaded[(row["account_id"], row["scene"])] = SceneInfo(
                scene_ref=row["id"],
                channel_id=row["channel_id"],
                scene_reply=_reply(row["reply"], f"scene {row['id']}"),
                channel_reply=_reply(row["channel_reply"], f"channel {row['channel_id']}"),
                follower_tags=_tags(row["follower_tags"]),
            )
        return loaded
