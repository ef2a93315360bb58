"""Typed pushes: what WeChat POSTs to the account's server, after decryption.

Every push has the common fields; the event kinds wxqr counts have their own classes, and
every other event or message is kept whole in :class:`OtherEvent` / :class:`OtherMessage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "SCENE_PREFIX",
    "OtherEvent",
    "OtherMessage",
    "Push",
    "ScanEvent",
    "SubscribeEvent",
    "SubscribeScanEvent",
    "TextMessage",
    "UnsubscribeEvent",
]

SCENE_PREFIX = "qrscene_"


@dataclass(frozen=True, slots=True, kw_only=True)
class Push:
    """Fields every push carries.

    ``to_user`` is the account's original id (``gh_…``), ``from_user`` the user's openid,
    ``create_time`` WeChat's Unix time, ``msg_type`` and ``event`` the raw names ("" for a
    message), and ``fields`` every field of the document, untouched.
    """

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    event: str = ""
    fields: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def openid(self) -> str:
        return self.from_user


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeScanEvent(Push):
    """A new follower who came through a parametric QR code (``qrscene_<scene>``)."""

    scene: str
    ticket: str
    event_key: str

    @property
    def scene_id(self) -> int | None:
        """The scene as an integer when it is one, else ``None``."""
        return _as_scene_id(self.scene)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanEvent(Push):
    """An existing follower scanned a parametric QR code (``Event`` ``SCAN``)."""

    scene: str
    ticket: str
    event_key: str

    @property
    def scene_id(self) -> int | None:
        return _as_scene_id(self.scene)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeEvent(Push):
    """A follow that did not come through a QR code.

    ``event_key`` keeps what WeChat sent, e.g. ``last_trade_no_…`` after a payment, or "".
    """

    event_key: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsubscribeEvent(Push):
    """An unfollow. It carries no scene: attribute it through the stored follower."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherEvent(Push):
    """Any other event (menu click, location, template send…), all fields kept."""

    event_key: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage(Push):
    """A text message from a user."""

    msg_id: str
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherMessage(Push):
    """Any other message (image, voice, location, link…), all fields kept."""

    msg_id: str


def _as_scene_id(scene: str) -> int | None:
    return int(scene) if scene.isascii() and scene.isdigit() else None
