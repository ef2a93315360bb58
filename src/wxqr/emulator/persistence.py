"""Keeping an emulator's state across restarts in a JSON or SQLite file.

A path ending in ``.json`` is written as one JSON document (atomically: temp file, then
rename); any other path is a SQLite database with one row per section. Saved: accounts
(secrets included — it is the emulator's own file; accounts given at start win over
saved ones, except that a saved push URL fills a missing one), tokens, codes and tickets, users and
their history, tags, the clock offset and the MsgId counter. Not saved: call counts, the
push log, quotas, faults.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

from .accounts import account_from_json, account_to_state
from .state import EmulatorState

__all__ = ["load_state", "save_state", "snapshot"]

_VERSION = 1


def snapshot(state: EmulatorState) -> dict[str, Any]:
    return {
        "version": _VERSION,
        "accounts": [account_to_state(a) for a in state.accounts.values()],
        "tokens": state.tokens.to_json(),
        "codes": state.codes.to_json(),
        "users": state.followers.to_json(),
        "tags": state.tags.to_json(),
        "clock_offset": state.clock.offset,
        "next_msg_id": state.next_msg_id,
    }


def _restore(state: EmulatorState, data: dict[str, Any]) -> None:
    if data.get("version") != _VERSION:
        raise ValueError(f"unsupported emulator state version {data.get('version')!r}")
    for item in data.get("accounts", []):
        saved = account_from_json(item)
        configured = state.accounts.get(saved.appid)
        if configured is None:
            state.accounts[saved.appid] = saved
        elif configured.push_url is None and saved.push_url:
            state.accounts[saved.appid] = dataclasses.replace(configured, push_url=saved.push_url)
    state.tokens.load_json(data.get("tokens", {}))
    state.codes.load_json(data.get("codes", []))
    state.followers.load_json(data.get("users", {}))
    state.tags.load_json(data.get("tags", {}))
    state.clock.offset = float(data.get("clock_offset", 0.0))
    state.next_msg_id = max(state.next_msg_id, int(data.get("next_msg_id", 0)))


def _is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def save_state(state: EmulatorState, path: str | os.PathLike[str]) -> None:
    target = Path(path)
    data = snapshot(state)
    if _is_json(target):
        fd, tmp = tempfile.mkstemp(prefix=target.name, dir=target.parent or Path("."))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(tmp, target)
        return
    with closing(sqlite3.connect(target)) as db, db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS emulator_state (section TEXT PRIMARY KEY, data TEXT)"
        )
        db.executemany(
            "INSERT INTO emulator_state (section, data) VALUES (?, ?) "
            "ON CONFLICT(section) DO UPDATE SET data = excluded.data",
            [(k, json.dumps(v, ensure_ascii=False)) for k, v in data.items()],
        )


def load_state(state: EmulatorState, path: str | os.PathLike[str]) -> bool:
    """Load ``path`` into ``state``; False when the file does not exist yet."""
    source = Path(path)
    if not source.exists():
        return False
    if _is_json(source):
        data = json.loads(source.read_text(encoding="utf-8"))
    else:
        with closing(sqlite3.connect(source)) as db:
            rows = db.execute("SELECT section, data FROM emulator_state").fetchall()
        data = {section: json.loads(raw) for section, raw in rows}
    _restore(state, data)
    return True
