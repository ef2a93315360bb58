"""The kinds of background job: enqueued by the ingest path, run by the worker.

Both sides import :class:`JobKind` from here, so neither depends on the other. The
``jobs.kind`` column holds the enum's value.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["JobKind"]


class JobKind(StrEnum):
    """What a row of the ``jobs`` table asks the worker to do."""

    #: Tag the follower with the WeChat user tags named by the channel's follower_tags;
    #: payload ``{"openid": str, "tags": [str, ...]}``.
    TAG_FOLLOWER = "tag_follower"
    #: Fetch the follower's user info (subscribe_scene, qr_scene...) from WeChat;
    #: payload ``{"openid": str}``.
    USER_INFO = "user_info"
