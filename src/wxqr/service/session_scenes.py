"""The scene namespace of scan sessions, kept apart from every channel scene.

A session's code is a temporary string-scene code whose scene is this prefix, 22 random
url-safe characters (128 bits) and the session's purpose (``wxqs_<random><purpose>``, at
most 59 characters). Channel codes may not use the prefix (``CodeService`` refuses it),
so a pushed scene tells by itself whether it names a session — and its purpose, which the
stats' ``sessions`` pseudo-scope groups by, even after the session row is pruned.
"""

from __future__ import annotations

import secrets

__all__ = [
    "PURPOSE_START",
    "SESSION_SCENE_PREFIX",
    "is_session_scene",
    "new_session_scene",
    "purpose_of_scene",
]

SESSION_SCENE_PREFIX = "wxqs_"
_RANDOM_LENGTH = 22  # secrets.token_urlsafe(16)
#: Where the purpose starts in a session scene (0-based; SQL ``substr`` is 1-based).
PURPOSE_START = len(SESSION_SCENE_PREFIX) + _RANDOM_LENGTH


def new_session_scene(purpose: str) -> str:
    """A fresh session scene for ``purpose`` (1–32 characters)."""
    token = secrets.token_urlsafe(16)
    assert len(token) == _RANDOM_LENGTH
    return SESSION_SCENE_PREFIX + token + purpose


def is_session_scene(scene: str | None) -> bool:
    return scene is not None and scene.startswith(SESSION_SCENE_PREFIX)


def purpose_of_scene(scene: str) -> str:
    return scene[PURPOSE_START:]
