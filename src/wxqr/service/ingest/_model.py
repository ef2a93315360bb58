"""What the ingest path carries: a push ready to store, what a scene resolves to, outcomes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from wxqr.protocol import (
    MalformedPush,
    OpenedPush,
    OtherEvent,
    Push,
    Reply,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    UnsubscribeEvent,
    dedup_key,
)

__all__ = [
    "KINDS",
    "IncomingPush",
    "IngestUnavailable",
    "Outcome",
    "Recorded",
    "ReplayedSignature",
    "SceneInfo",
    "UnstorablePush",
    "event_kind",
    "incoming_push",
    "signature_fingerprint",
]

# events.kind values, exactly as the event log documents them.
KINDS = ("subscribe_scan", "scan", "subscribe", "unsubscribe", "other_event", "message")

_MAX_OPENID = 64
_MAX_SCENE = 64


class UnstorablePush(MalformedPush):
    """A verified push whose fields cannot be WeChat's (an openid or scene too long)."""


def event_kind(push: Push) -> str:
    """The events.kind of a typed push."""
    if isinstance(push, SubscribeScanEvent):
        return "subscribe_scan"
    if isinstance(push, ScanEvent):
        return "scan"
    if isinstance(push, SubscribeEvent):
        return "subscribe"
    if isinstance(push, UnsubscribeEvent):
        return "unsubscribe"
    if isinstance(push, OtherEvent):
        return "other_event"
    return "message"


@dataclass(frozen=True, slots=True)
class IncomingPush:
    """One push, verified and classified, as the events table will hold it."""

    account_id: int
    dedup_key: str
    kind: str
    openid: str
    to_user: str
    msg_type: str
    event: str
    event_key: str
    scene: str | None
    ticket: str | None
    create_time: int
    received_at: int  # Unix ms
    raw_xml: str | None
    # The signed (timestamp, nonce, signature) of the request and the digest of the
    # plaintext it carried (see signature_fingerprint); None: not checked (imports).
    signed_key: str | None = None
    body_digest: str | None = None

    @property
    def is_scan(self) -> bool:
        return self.kind in ("subscribe_scan", "scan")


def signature_fingerprint(
    timestamp: str, nonce: str, signature: str, plaintext: bytes
) -> tuple[str, str]:
    """(signed key, body digest) of a push, for the replay guard (issue 14).

    WeChat's ``signature`` covers the token, timestamp and nonce but not the body, so a
    captured query string would sign any body. The writer remembers which plaintext was
    first recorded under each signed key and refuses a different one under the same key
    (a WeChat retry resends the same plaintext). Both are fixed-size hex digests, whatever
    the lengths of the query's fields.
    """
    signed = hashlib.blake2b(digest_size=16)
    for part in (timestamp, nonce, signature):
        signed.update(part.encode("utf-8", "surrogateescape"))
        signed.update(b"\x00")
    return signed.hexdigest(), hashlib.blake2b(plaintext, digest_size=16).hexdigest()


def incoming_push(
    account_id: int,
    opened: OpenedPush,
    *,
    received_at: int,
    keep_xml: bool = True,
    fingerprint: tuple[str, str] | None = None,
) -> IncomingPush:
    """Classify ``opened`` for the event log; raises :class:`UnstorablePush` (HTTP 400)."""
    push = opened.push
    if not push.from_user or len(push.from_user) > _MAX_OPENID:
        raise UnstorablePush("FromUserName is not an openid")
    scene: str | None = None
    ticket: str | None = None
    event_key = ""
    if isinstance(push, SubscribeScanEvent | ScanEvent):
        scene, ticket, event_key = push.scene, push.ticket or None, push.event_key
        if len(scene) > _MAX_SCENE:
            raise UnstorablePush("scene value is longer than 64 characters")
    elif isinstance(push, SubscribeEvent | OtherEvent):
        event_key = push.event_key
        ticket = push.fields.get("Ticket") or None
    return IncomingPush(
        account_id=account_id,
        dedup_key=dedup_key(push),
        kind=event_kind(push),
        openid=push.from_user,
        to_user=push.to_user[:64],
        msg_type=push.msg_type[:32],
        event=push.event[:64],
        event_key=event_key[:256],
        scene=scene,
        ticket=ticket[:512] if ticket else None,
        create_time=push.create_time,
        received_at=received_at,
        raw_xml=opened.xml.decode("utf-8", "replace") if keep_xml else None,
        signed_key=fingerprint[0] if fingerprint else None,
        body_digest=fingerprint[1] if fingerprint else None,
    )


@dataclass(frozen=True, slots=True)
class SceneInfo:
    """What a known scene resolves to (cached in memory between lookups)."""

    scene_ref: int | None  # None: a scan session's scene (no scenes row, no channel)
    channel_id: int | None
    scene_reply: Reply | None
    channel_reply: Reply | None
    follower_tags: Sequence[str]


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of storing one push: durable once this exists.

    ``inserted`` is False for a retry of a push already in the log (nothing changed).
    ``scene_info`` is the scene the push named, ``None`` for an orphan scan or no scene.
    """

    inserted: bool
    scene_info: SceneInfo | None
    orphan: bool


class IngestUnavailable(Exception):
    """The push could not be made durable in time (answer 5xx so WeChat retries)."""


class ReplayedSignature(Exception):
    """A push whose signed (timestamp, nonce, signature) was already recorded with a
    different body: a forgery from a captured URL (answer 403, store nothing)."""


#: What a writer says of one push: recorded (durable), or why it is not.
Outcome = Recorded | IngestUnavailable | ReplayedSignature
