"""The simulated users of each account: who follows, since when, through which code.

Also keeps the follow/unfollow history that ``datacube/getusersummary`` is computed from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SCENE_QR_CODE",
    "SCENE_SEARCH",
    "USER_SOURCES",
    "Follower",
    "FollowerBook",
    "HistoryEntry",
    "user_source",
]

SCENE_QR_CODE = "ADD_SCENE_QR_CODE"
SCENE_SEARCH = "ADD_SCENE_SEARCH"

# subscribe_scene (user/info) -> user_source (datacube), from WeChat's documentation.
USER_SOURCES: dict[str, int] = {
    SCENE_SEARCH: 1,
    "ADD_SCENE_PROFILE_CARD": 17,
    SCENE_QR_CODE: 30,
    "ADD_SCENE_PAID": 51,
    "ADD_SCENE_PROFILE_LINK": 57,
    "ADD_SCENE_WECHAT_ADVERTISEMENT": 100,
    "ADD_SCENE_WXA": 149,
    "ADD_SCENE_REPRINT": 161,
    "ADD_SCENE_CHANNELS": 200,
    "ADD_SCENE_LIVESTREAM": 201,
}


def user_source(subscribe_scene: str) -> int:
    return USER_SOURCES.get(subscribe_scene, 0)


@dataclass
class Follower:
    appid: str
    openid: str
    subscribed: bool
    subscribe_time: int
    subscribe_scene: str
    qr_scene: int = 0
    qr_scene_str: str = ""
    unsubscribe_time: int | None = None
    tagids: list[int] = field(default_factory=list)

    def info(self, language: str = "zh_CN") -> dict[str, Any]:
        """``cgi-bin/user/info`` as WeChat fills it (no nickname/avatar since 2021)."""
        if not self.subscribed:
            return {"subscribe": 0, "openid": self.openid, "tagid_list": []}
        return {
            "subscribe": 1,
            "openid": self.openid,
            "nickname": "",
            "sex": 0,
            "language": language,
            "city": "",
            "province": "",
            "country": "",
            "headimgurl": "",
            "subscribe_time": self.subscribe_time,
            "remark": "",
            "groupid": 0,
            "tagid_list": list(self.tagids),
            "subscribe_scene": self.subscribe_scene,
            "qr_scene": self.qr_scene,
            "qr_scene_str": self.qr_scene_str,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "appid": self.appid,
            "openid": self.openid,
            "subscribed": self.subscribed,
            "subscribe_time": self.subscribe_time,
            "subscribe_scene": self.subscribe_scene,
            "qr_scene": self.qr_scene,
            "qr_scene_str": self.qr_scene_str,
            "unsubscribe_time": self.unsubscribe_time,
            "tagids": list(self.tagids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Follower:
        unsub = data.get("unsubscribe_time")
        return cls(
            appid=str(data["appid"]),
            openid=str(data["openid"]),
            subscribed=bool(data["subscribed"]),
            subscribe_time=int(data["subscribe_time"]),
            subscribe_scene=str(data["subscribe_scene"]),
            qr_scene=int(data.get("qr_scene", 0)),
            qr_scene_str=str(data.get("qr_scene_str", "")),
            unsubscribe_time=None if unsub is None else int(unsub),
            tagids=[int(t) for t in data.get("tagids", [])],
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One follow (``subscribe=True``) or unfollow, with the follower's user_source."""

    appid: str
    openid: str
    time: int
    subscribe: bool
    source: int

    def to_json(self) -> list[Any]:
        return [self.appid, self.openid, self.time, self.subscribe, self.source]

    @classmethod
    def from_json(cls, item: list[Any]) -> HistoryEntry:
        return cls(str(item[0]), str(item[1]), int(item[2]), bool(item[3]), int(item[4]))


class FollowerBook:
    """Followers (current and former) of every account, and their history."""

    def __init__(self) -> None:
        self._users: dict[tuple[str, str], Follower] = {}
        self._history: list[HistoryEntry] = []

    def clear(self) -> None:
        self._users.clear()
        self._history.clear()

    def get(self, appid: str, openid: str) -> Follower | None:
        return self._users.get((appid, openid))

    def is_following(self, appid: str, openid: str) -> bool:
        user = self._users.get((appid, openid))
        return user is not None and user.subscribed

    def subscribe(
        self,
        appid: str,
        openid: str,
        now: int,
        scene: str,
        qr_scene: int = 0,
        qr_scene_str: str = "",
    ) -> Follower:
        user = self._users.get((appid, openid))
        if user is None:
            user = Follower(appid, openid, True, now, scene, qr_scene, qr_scene_str)
            self._users[(appid, openid)] = user
        else:
            user.subscribed, user.subscribe_time, user.subscribe_scene = True, now, scene
            user.qr_scene, user.qr_scene_str = qr_scene, qr_scene_str
            user.unsubscribe_time = None
        self._history.append(HistoryEntry(appid, openid, now, True, user_source(scene)))
        return user

    def unsubscribe(self, appid: str, openid: str, now: int) -> Follower | None:
        user = self._users.get((appid, openid))
        if user is None or not user.subscribed:
            return None
        user.subscribed, user.unsubscribe_time = False, now
        user.tagids.clear()
        source = user_source(user.subscribe_scene)
        self._history.append(HistoryEntry(appid, openid, now, False, source))
        return user

    def followers(self, appid: str, *, current_only: bool = False) -> list[Follower]:
        return [
            u
            for (owner, _), u in self._users.items()
            if owner == appid and (u.subscribed or not current_only)
        ]

    def history(self, appid: str) -> list[HistoryEntry]:
        return [h for h in self._history if h.appid == appid]

    def to_json(self) -> dict[str, Any]:
        return {
            "users": [u.to_json() for u in self._users.values()],
            "history": [h.to_json() for h in self._history],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.clear()
        for item in data.get("users", []):
            user = Follower.from_json(item)
            self._users[(user.appid, user.openid)] = user
        self._history.extend(HistoryEntry.from_json(h) for h in data.get("history", []))
