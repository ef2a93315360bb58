"""``wxqr db backup`` under load, ``wxqr db restore`` into a fresh database, and
``wxqr db downgrade`` of the last migration: through the real CLI, as an operator runs them."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.ops.serving import WXQR, free_port, serve_env, wxqr_serve
from tests.support import pushes as p
from wxqr.emulator.testing import EmulatorAccount, running_emulator
from wxqr.protocol import EncryptMode, dedup_key, parse_push
from wxqr.store import tables as t
from wxqr.store.db import make_engine
from wxqr.store.migrate import head_revision, previous_revision

pytestmark = pytest.mark.slow


def wxqr(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = serve_env(database_url)
    env.pop("WXQR_APPID")
    return subprocess.run([*WXQR, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database (no tables) of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    admin_url: str = request.getfixturevalue("postgres_url")
    name = f"wxqr_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _keys(url: str) -> Counter[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return Counter(conn.execute(select(t.events.c.dedup_key)).scalars())
    finally:
        engine.dispose()


def test_backup_under_load_restores_every_event(
    database_url: str, fresh_url: str, tmp_path: Path
) -> None:
    port = free_port()
    account = EmulatorAccount(
        appid=p.APPID,
        secret="backup-secret",
        token=p.TOKEN,
        aes_key=p.AES_KEY,
        mode=EncryptMode.SAFE,
        original_id=p.ORIGINAL_ID,
        push_url=f"http://127.0.0.1:{port}/wechat/{p.APPID}",
    )
    backup = tmp_path / "wxqr.backup"
    with (
        running_emulator(accounts=[account]) as emu,
        wxqr_serve(serve_env(database_url), port),
    ):
        stop = threading.Event()

        def load(worker: int) -> None:
            i = 0
            while not stop.is_set():
                emu.follow(f"o-{worker}-{i}")
                i += 1

        threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            while len(emu.pushes(p.APPID)) < 150:
                time.sleep(0.02)
            answered_before = [push for push in emu.pushes(p.APPID) if push.delivered]
            made = wxqr(database_url, "db", "backup", str(backup))  # while pushes arrive
            pushes_during = len(emu.pushes(p.APPID))
            time.sleep(0.3)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert len(emu.pushes(p.APPID)) > pushes_during  # the load went on meanwhile
        everything = [push for push in emu.pushes(p.APPID) if push.delivered]
    assert made.returncode == 0, made.stderr
    assert backup.stat().st_mode & 0o777 == 0o600  # it holds the accounts' secrets
    assert made.stdout.startswith(f"backed up the {fresh_url.split(':')[0].split('+')[0]}")

    restored = wxqr(fresh_url, "db", "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    in_copy = _keys(fresh_url)
    assert f"({sum(in_copy.values())} events)" in restored.stdout
    source = _keys(database_url)
    assert max(in_copy.values()) == 1
    assert set(in_copy) <= set(source)
    before = {dedup_key(parse_push(push.xml)) for push in answered_before}
    assert before <= set(in_copy), f"{len(before - set(in_copy))} answered pushes missing"
    assert set(source) == {dedup_key(parse_push(push.xml)) for push in everything}
    current = wxqr(fresh_url, "db", "current")
    assert f"current: {head_revision()}" in current.stdout

    # A restore never lands on data by mistake, and says why in one line.
    again = wxqr(fresh_url, "db", "restore", str(backup))
    assert again.returncode == 1
    assert "already holds accounts or events" in again.stderr
    assert "Traceback" not in again.stderr
    forced = wxqr(fresh_url, "db", "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert _keys(fresh_url) == in_copy


def test_backup_and_restore_refuse_bad_paths(database_url: str, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_bytes(b"x")
    exists = wxqr(database_url, "db", "backup", str(taken))
    assert (exists.returncode, exists.stdout) == (1, "")
    assert "already exists" in exists.stderr
    junk = wxqr(database_url, "db", "restore", str(taken))
    assert junk.returncode == 1
    assert "neither a SQLite backup nor a pg_dump" in junk.stderr
    assert taken.read_bytes() == b"x"  # never overwritten
    nowhere = wxqr(database_url, "db", "backup", str(tmp_path / "no-dir" / "b"))
    assert nowhere.returncode == 1
    assert "is not a directory" in nowhere.stderr
    missing = wxqr(database_url, "db", "restore", str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr


def test_downgrade_undoes_only_the_last_migration(fresh_url: str) -> None:
    assert wxqr(fresh_url, "db", "upgrade").returncode == 0
    head = head_revision()
    too_far = wxqr(fresh_url, "db", "downgrade", "nonsense")
    assert too_far.returncode == 1
    assert "only the last migration can be undone" in too_far.stderr
    # One release back at a time: -1 (or the previous revision by name) undoes the last.
    current = head
    while (previous := previous_revision(current)) != "base":
        done = wxqr(fresh_url, "db", "downgrade", "--", "-1")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"database downgraded from {current} to {previous}"
        assert f"current: {previous}" in wxqr(fresh_url, "db", "current").stdout
        current = previous
    # Undoing the first migration drops every table: only with --yes.
    unconfirmed = wxqr(fresh_url, "db", "downgrade", "--", "-1")
    assert unconfirmed.returncode == 1
    assert "--yes" in unconfirmed.stderr
    done = wxqr(fresh_url, "db", "downgrade", "base", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"database downgraded from {current} to base"
    assert "current: empty" in wxqr(fresh_url, "db", "current").stdout
    empty = wxqr(fresh_url, "db", "downgrade", "--yes", "base")
    assert empty.returncode == 1
    assert "nothing" in empty.stderr or "empty" in empty.stderr
    assert wxqr(fresh_url, "db", "upgrade").returncode == 0
    assert f"current: {head}" in wxqr(fresh_url, "db", "current").stdout
