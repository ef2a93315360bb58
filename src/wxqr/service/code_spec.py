"""The one rule that turns an adapter's raw values into a :class:`CodeSpec`.

The CLI (``--kind``, ``--scene-type``, ``--scene``, ``--expire-days``), the REST API
(``kind``, ``scene_type``, ``scene``, ``expire_seconds``), the dashboard's form and the
bulk CSV import all describe the code to issue with the same few values, as text or
numbers. :func:`parse_code_spec` checks them once, the same way for all:

* ``kind`` is ``permanent`` (default) or ``temporary``; ``scene_type`` is ``id``
  (default) or ``str`` (case and surrounding blanks ignored);
* a blank ``scene`` means "allocate one"; with ``scene_type`` ``id`` a given scene must
  be a whole number (WeChat's ranges are checked when the code is issued);
* a temporary code lives ``expire_days`` (1..30) or ``expire_seconds`` (1..2,592,000)
  days or seconds, 30 days when neither is given; a permanent code has no expiry.

Errors are :class:`InvalidInputError` naming the field at fault.
"""

from __future__ import annotations

from wxqr.protocol import MAX_EXPIRE_SECONDS, QRKind
from wxqr.service.codes import CodeSpec, SceneType
from wxqr.service.errors import InvalidInputError

__all__ = ["MAX_EXPIRE_DAYS", "parse_code_spec"]

MAX_EXPIRE_DAYS = MAX_EXPIRE_SECONDS // 86_400
_MAX_SCENE_TEXT = 64  # WeChat's scene_str limit; longer text is refused before parsing


def _choice(value: str | None, choices: tuple[str, ...], field: str) -> str:
    """``value`` as one of ``choices`` (the first is the default for a blank value)."""
    text = (value or "").strip().lower()
    if not text:
        return choices[0]
    if text not in choices:
        raise InvalidInputError(
            f"{field} must be {' or '.join(choices)}, not {value!r}", field=field
        )
    return text


def _whole(value: int | str, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be a whole number", field=field)
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.isdigit() or len(text) > 12:
        raise InvalidInputError(f"{field} must be a whole number, not {value!r}", field=field)
    return int(text)


def _scene(scene: int | str | None, scene_type: SceneType) -> int | str | None:
    if scene is None or (isinstance(scene, str) and not scene.strip()):
        return None
    if isinstance(scene, bool):
        raise InvalidInputError("scene must be a number or text", field="scene")
    if scene_type is SceneType.STR:
        text = str(scene).strip()
        if len(text) > _MAX_SCENE_TEXT:
            raise InvalidInputError(
                f"a string scene is at most {_MAX_SCENE_TEXT} characters", field="scene"
            )
        return text
    if isinstance(scene, int):
        return scene
    text = scene.strip()
    if not text.isdigit() or len(text) > 12:
        raise InvalidInputError(f"scene {scene!r} is not an integer id", field="scene")
    return int(text)


def _expiry(
    kind: QRKind, expire_days: int | str | None, expire_seconds: int | str | None
) -> int | None:
    days = None if expire_days is None or expire_days == "" else expire_days
    seconds = None if expire_seconds is None or expire_seconds == "" else expire_seconds
    if days is not None and seconds is not None:
        raise InvalidInputError("give the expiry in days or in seconds, not both", field="expire")
    if kind is QRKind.PERMANENT:
        if days is not None or seconds is not None:
            field = "expire_days" if days is not None else "expire_seconds"
            raise InvalidInputError(
                f"a permanent code has no {field}: it does not expire", field=field
            )
        return None
    if days is not None:
        number = _whole(days, "expire_days")
        if not 1 <= number <= MAX_EXPIRE_DAYS:
            raise InvalidInputError(
                f"a temporary code expires after 1..{MAX_EXPIRE_DAYS} days", field="expire_days"
            )
        return number * 86_400
    if seconds is not None:
        number = _whole(seconds, "expire_seconds")
        if not 1 <= number <= MAX_EXPIRE_SECONDS:
            raise InvalidInputError(
                f"a temporary code expires after 1..{MAX_EXPIRE_SECONDS} seconds",
                field="expire_seconds",
            )
        return number
    return MAX_EXPIRE_SECONDS


def parse_code_spec(
    kind: str | None = None,
    scene_type: str | None = None,
    scene: int | str | None = None,
    *,
    expire_days: int | str | None = None,
    expire_seconds: int | str | None = None,
) -> CodeSpec:
    """The code an adapter asked for, checked (see the module's rules)."""
    chosen_kind = QRKind(_choice(kind, ("permanent", "temporary"), "kind"))
    chosen_type = SceneType(_choice(scene_type, ("id", "str"), "scene_type"))
    return CodeSpec(
        kind=chosen_kind,
        scene_type=chosen_type,
        scene=_scene(scene, chosen_type),
        expire_seconds=_expiry(chosen_kind, expire_days, expire_seconds),
    )
