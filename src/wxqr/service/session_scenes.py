"""The scene namespace of scan sessions, kept apart from every channel scene.

A session's code is a temporary string-scene code whose scene is this prefix plus random
url-safe characters; channel codes may not use the prefix (``CodeService`` refuses it),
so a pushed scene tells by itself whether it names a session or a channel's code.
"""

from __future__ import annotations

import secrets

__all__ = ["SESSION_SCENE_PREFIX", "is_session_scene", "new_session_scene"]

SESSION_SCENE_PREFIX = "wxqs_"


def new_session_scene() -> str:
    """A fresh session scene (27 characters, 128 random bits)."""
    return SESSION_SCENE_PREFIX + secrets.token_urlsafe(16)


def is_session_scene(scene: str | None) -> bool:
    return scene is not None and scene.startswith(SESSION_SCENE_PREFIX)
