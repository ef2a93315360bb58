"""What the simulated users' actions produced: pushes, delivery attempts, the reply.

These cross the control API as JSON (``to_json`` / ``from_json``) and come back typed in
:mod:`wxqr.emulator.testing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wxqr.protocol import Article, ImageReply, NewsReply, PushQuery, Reply, TextReply
from wxqr.protocol import reply_to_json as protocol_reply_to_json

__all__ = [
    "SERVICE_UNAVAILABLE",
    "Attempt",
    "PushRecord",
    "ScanResult",
    "reply_from_json",
    "reply_to_json",
]

# What a user sees when the account's server does not answer properly.
SERVICE_UNAVAILABLE = "该公众号暂时无法提供服务"


def reply_to_json(reply: Reply | None) -> dict[str, Any] | None:
    return None if reply is None else protocol_reply_to_json(reply)


def reply_from_json(data: dict[str, Any] | None) -> Reply | None:
    if data is None:
        return None
    kind = data.get("type")
    if kind == "text":
        return TextReply(str(data["content"]))
    if kind == "image":
        return ImageReply(str(data["media_id"]))
    if kind == "news":
        return NewsReply(tuple(Article(**a) for a in data["articles"]))
    raise ValueError(f"unknown reply type {kind!r}")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a push: HTTP status (None without an answer), latency, what went wrong."""

    number: int
    status: int | None
    latency_ms: float
    error: str | None = None
    body: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
            "error": self.error,
            "body": self.body,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attempt:
        status = data.get("status")
        return cls(
            number=int(data["number"]),
            status=None if status is None else int(status),
            latency_ms=float(data["latency_ms"]),
            error=data.get("error"),
            body=str(data.get("body", "")),
        )


@dataclass(frozen=True, slots=True)
class PushRecord:
    """One push: its plaintext XML, what was POSTed (query + body) and how it went.

    ``url`` is None when the account has no push URL (nothing was sent). ``delivered``
    means the server answered (``success``, empty or a reply); ``reply`` is the passive
    reply the user sees, ``error`` the error text the user sees instead.
    """

    appid: str
    openid: str
    kind: str
    create_time: int
    xml: str
    query: PushQuery
    body: str
    url: str | None
    attempts: tuple[Attempt, ...] = ()
    delivered: bool = False
    reply: Reply | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "appid": self.appid,
            "openid": self.openid,
            "kind": self.kind,
            "create_time": self.create_time,
            "xml": self.xml,
            "query": self.query.to_params(),
            "body": self.body,
            "url": self.url,
            "attempts": [a.to_json() for a in self.attempts],
            "delivered": self.delivered,
            "reply": reply_to_json(self.reply),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PushRecord:
        return cls(
            appid=str(data["appid"]),
            openid=str(data["openid"]),
            kind=str(data["kind"]),
            create_time=int(data["create_time"]),
            xml=str(data["xml"]),
            query=PushQuery.from_params(data["query"]),
            body=str(data["body"]),
            url=data.get("url"),
            attempts=tuple(Attempt.from_json(a) for a in data.get("attempts", [])),
            delivered=bool(data.get("delivered")),
            reply=reply_from_json(data.get("reply")),
            error=data.get("error"),
        )


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The answer of a simulated action (scan, follow, unsubscribe, message).

    ``outcome``: "subscribe" (a new follower through the code), "scan" (a follower
    scanned), "follow", "unsubscribe", "message", or — with no push — "unknown_code",
    "expired_code", "already_following", "not_following".
    """

    outcome: str
    openid: str
    appid: str | None = None
    scene: str | None = None
    pushes: tuple[PushRecord, ...] = ()

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return tuple(a for p in self.pushes for a in p.attempts)

    @property
    def reply(self) -> Reply | None:
        return next((p.reply for p in reversed(self.pushes) if p.reply is not None), None)

    @property
    def error(self) -> str | None:
        return next((p.error for p in reversed(self.pushes) if p.error is not None), None)

    @property
    def pushed(self) -> bool:
        return bool(self.pushes)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "openid": self.openid,
            "appid": self.appid,
            "scene": self.scene,
            "pushes": [p.to_json() for p in self.pushes],
            "reply": reply_to_json(self.reply),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScanResult:
        return cls(
            outcome=str(data["outcome"]),
            openid=str(data["openid"]),
            appid=data.get("appid"),
            scene=data.get("scene"),
            pushes=tuple(PushRecord.from_json(p) for p in data.get("pushes", [])),
        )
