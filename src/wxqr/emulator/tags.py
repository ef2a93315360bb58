"""User tags: ``tags/create``, ``tags/get``, ``tags/members/batchtagging`` / ``batchuntagging``.

WeChat's limits: names up to 30 characters and unique (45158 / 45157), 100 tags an
account (45056), 50 openids a call (40032), 20 tags a user (45059), unknown tag 45159,
unknown openid 40003. Tag ids 0..2 are reserved; 2 is the system "星标组".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import WeChatError
from .users import FollowerBook

__all__ = ["MAX_TAGS", "MAX_TAGS_PER_USER", "Tag", "TagBook"]

MAX_TAGS = 100
MAX_TAGS_PER_USER = 20
MAX_NAME = 30
MAX_OPENIDS = 50
FIRST_TAG_ID = 100
_SYSTEM_TAGS = {2: "星标组"}


@dataclass(frozen=True, slots=True)
class Tag:
    id: int
    name: str


class TagBook:
    def __init__(self) -> None:
        self._tags: dict[str, dict[int, str]] = {}
        self._next: dict[str, int] = {}

    def clear(self) -> None:
        self._tags.clear()
        self._next.clear()

    def _of(self, appid: str) -> dict[int, str]:
        return self._tags.setdefault(appid, dict(_SYSTEM_TAGS))

    def create(self, appid: str, name: object) -> Tag:
        tags = self._of(appid)
        if not isinstance(name, str) or not name.strip():
            raise WeChatError(45157)
        if len(name) > MAX_NAME:
            raise WeChatError(45158)
        if name in tags.values():
            raise WeChatError(45157, "tag name already exists")
        if len(tags) - len(_SYSTEM_TAGS) >= MAX_TAGS:
            raise WeChatError(45056)
        tag_id = self._next.get(appid, FIRST_TAG_ID)
        self._next[appid] = tag_id + 1
        tags[tag_id] = name
        return Tag(tag_id, name)

    def listing(self, appid: str, followers: FollowerBook) -> list[dict[str, Any]]:
        counts: dict[int, int] = {}
        for user in followers.followers(appid, current_only=True):
            for tag_id in user.tagids:
                counts[tag_id] = counts.get(tag_id, 0) + 1
        return [
            {"id": tag_id, "name": name, "count": counts.get(tag_id, 0)}
            for tag_id, name in sorted(self._of(appid).items())
        ]

    def members(
        self, appid: str, openids: object, tagid: object, followers: FollowerBook, *, add: bool
    ) -> None:
        if not isinstance(openids, list) or not openids:
            raise WeChatError(40003, "openid_list is empty")
        if len(openids) > MAX_OPENIDS:
            raise WeChatError(40032)
        if isinstance(tagid, bool) or not isinstance(tagid, int) or tagid not in self._of(appid):
            raise WeChatError(45159)
        users = []
        for openid in openids:
            user = followers.get(appid, openid) if isinstance(openid, str) else None
            if user is None or not user.subscribed:
                raise WeChatError(40003)
            users.append(user)
        if add and any(tagid not in u.tagids and len(u.tagids) >= MAX_TAGS_PER_USER for u in users):
            raise WeChatError(45059)
        for user in users:
            if add and tagid not in user.tagids:
                user.tagids.append(tagid)
            elif not add and tagid in user.tagids:
                user.tagids.remove(tagid)

    def to_json(self) -> dict[str, Any]:
        return {
            "tags": {appid: {str(k): v for k, v in t.items()} for appid, t in self._tags.items()},
            "next": dict(self._next),
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.clear()
        for appid, tags in data.get("tags", {}).items():
            self._tags[appid] = {int(k): str(v) for k, v in tags.items()}
        self._next.update({k: int(v) for k, v in data.get("next", {}).items()})
