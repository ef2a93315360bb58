"""The QR codes an emulator has issued: urls, tickets, scenes and expiry.

A temporary creation always makes a new code. A permanent scene is one code per account:
creating it again mints a new ticket for the same url and does not count twice against
the permanent-code limit (45029 past it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import WeChatError
from .qrcreate import CreateRequest
from .tickets import mint_ticket, new_code_url

__all__ = ["CodeBook", "CreatedTicket", "QRCode"]

_KEEP_EXPIRED = 7 * 86_400


@dataclass
class QRCode:
    url: str
    appid: str
    action_name: str
    scene: str
    scene_id: int
    scene_str: str
    created_at: int
    expire_seconds: int | None
    tickets: list[str] = field(default_factory=list)

    @property
    def permanent(self) -> bool:
        return self.expire_seconds is None

    @property
    def expires_at(self) -> int | None:
        return None if self.expire_seconds is None else self.created_at + self.expire_seconds

    def expired(self, now: float) -> bool:
        expires_at = self.expires_at
        return expires_at is not None and now >= expires_at

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "appid": self.appid,
            "action_name": self.action_name,
            "scene": self.scene,
            "scene_id": self.scene_id,
            "scene_str": self.scene_str,
            "created_at": self.created_at,
            "expire_seconds": self.expire_seconds,
            "tickets": list(self.tickets),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QRCode:
        expire = data.get("expire_seconds")
        return cls(
            url=str(data["url"]),
            appid=str(data["appid"]),
            action_name=str(data["action_name"]),
            scene=str(data["scene"]),
            scene_id=int(data["scene_id"]),
            scene_str=str(data["scene_str"]),
            created_at=int(data["created_at"]),
            expire_seconds=None if expire is None else int(expire),
            tickets=[str(t) for t in data.get("tickets", [])],
        )


@dataclass(frozen=True, slots=True)
class CreatedTicket:
    """The answer of ``qrcode/create``."""

    ticket: str
    url: str
    expire_seconds: int | None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ticket": self.ticket}
        if self.expire_seconds is not None:
            body["expire_seconds"] = self.expire_seconds
        body["url"] = self.url
        return body


class CodeBook:
    """Codes of every account, found by url or by ticket."""

    def __init__(self) -> None:
        self._by_url: dict[str, QRCode] = {}
        self._by_ticket: dict[str, str] = {}
        self._permanent: dict[tuple[str, str], str] = {}
        self._permanent_counts: dict[str, int] = {}

    def clear(self) -> None:
        self._by_url.clear()
        self._by_ticket.clear()
        self._permanent.clear()
        self._permanent_counts.clear()

    def permanent_count(self, appid: str) -> int:
        return self._permanent_counts.get(appid, 0)

    def create(
        self, appid: str, request: CreateRequest, now: int, permanent_limit: int
    ) -> CreatedTicket:
        if request.permanent:
            key = (appid, request.scene_key)
            url = self._permanent.get(key)
            if url is None:
                if self.permanent_count(appid) >= permanent_limit:
                    raise WeChatError(45029)
                url = self._new_url()
                self._add(
                    QRCode(
                        url,
                        appid,
                        request.action_name,
                        request.scene,
                        request.scene_id,
                        request.scene_str,
                        now,
                        None,
                    )
                )
            code = self._by_url[url]
            ticket = mint_ticket(url, now, 0)
        else:
            self._prune(now)
            expire = request.expire_seconds or 0
            code = QRCode(
                self._new_url(),
                appid,
                request.action_name,
                request.scene,
                request.scene_id,
                request.scene_str,
                now,
                expire,
            )
            self._add(code)
            ticket = mint_ticket(code.url, now, expire)
        code.tickets.append(ticket)
        self._by_ticket[ticket] = code.url
        return CreatedTicket(ticket, code.url, code.expire_seconds)

    def _new_url(self) -> str:
        while True:
            url = new_code_url()
            if url not in self._by_url:
                return url

    def _add(self, code: QRCode) -> None:
        self._by_url[code.url] = code
        for ticket in code.tickets:
            self._by_ticket[ticket] = code.url
        if code.permanent:
            key = f"str:{code.scene_str}" if code.scene_str else f"id:{code.scene_id}"
            if (code.appid, key) not in self._permanent:
                self._permanent_counts[code.appid] = self.permanent_count(code.appid) + 1
            self._permanent[(code.appid, key)] = code.url

    def _prune(self, now: int) -> None:
        old = [
            c
            for c in self._by_url.values()
            if c.expires_at is not None and c.expires_at + _KEEP_EXPIRED < now
        ]
        for code in old:
            del self._by_url[code.url]
            for ticket in code.tickets:
                self._by_ticket.pop(ticket, None)

    def by_ticket(self, ticket: str) -> QRCode | None:
        url = self._by_ticket.get(ticket)
        return None if url is None else self._by_url.get(url)

    def by_url(self, url: str) -> QRCode | None:
        return self._by_url.get(url)

    def codes(self, appid: str | None = None) -> list[QRCode]:
        return [c for c in self._by_url.values() if appid is None or c.appid == appid]

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self._by_url.values()]

    def load_json(self, items: list[dict[str, Any]]) -> None:
        self.clear()
        for item in items:
            self._add(QRCode.from_json(item))
