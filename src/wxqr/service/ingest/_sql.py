"""The few statements of the group-commit hot path, as driver SQL for ``executemany``.

A batch writes hundreds of rows; going through SQLAlchemy's per-row parameter processing
costs more than the database does. These statements are generated from the Core tables
(so column names stay in step with :mod:`wxqr.store.tables`) and run with
``exec_driver_sql`` (one DBAPI ``executemany``). Everything else stays plain Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from wxqr.store import tables as t

__all__ = [
    "EVENT_COLUMNS",
    "FOLLOWER_STATE_COLUMNS",
    "JOB_COLUMNS",
    "SIGNATURE_COLUMNS",
    "USER_INFO_COLUMNS",
    "Prefetched",
    "analyze",
    "existing_dedup_keys",
    "insert_rows",
    "prefetch",
    "prune_signatures",
    "select_followers",
    "select_signatures",
    "update_followers",
    "write",
]

EVENT_COLUMNS = (
    "account_id",
    "dedup_key",
    "kind",
    "openid",
    "msg_type",
    "event",
    "event_key",
    "scene",
    "ticket",
    "scene_ref",
    "channel_id",
    "orphan",
    "create_time",
    "received_at",
    "raw_xml",
)
FOLLOWER_STATE_COLUMNS = (
    "following",
    "first_follow_at",
    "first_scene",
    "first_channel_id",
    "last_follow_at",
    "last_scene",
    "last_channel_id",
    "unfollowed_at",
    "refollow_count",
)
JOB_COLUMNS = (
    "account_id",
    "kind",
    "payload",
    "status",
    "attempts",
    "run_after",
    "created_at",
    "updated_at",
)
SIGNATURE_COLUMNS = ("account_id", "signed_key", "body_digest", "seen_at")
# What the worker fetched about a follower from WeChat's user/info: erased on unfollow.
USER_INFO_COLUMNS = ("wechat_subscribe_scene", "wechat_qr_scene", "user_info_at")
# The advisory lock class of ingest writers (PostgreSQL), "wxqi" in ASCII.
_PG_INGEST_LOCK = 0x77787169
_EVENT_KEY = ("account_id", "dedup_key")
_SIGNATURE_KEY = ("account_id", "signed_key")

for _table, _names in (
    (t.events, EVENT_COLUMNS),
    (t.followers, FOLLOWER_STATE_COLUMNS),
    (t.jobs, JOB_COLUMNS),
    (t.push_signatures, SIGNATURE_COLUMNS),
    (t.followers, USER_INFO_COLUMNS),
):
    for _name in _names:
        assert _name in _table.c, f"{_table.name}.{_name} is not in wxqr.store.tables"


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def _id_mark(conn: Connection) -> str:
    """An integer parameter: psycopg sends small ints as int2, and ``int4 = int2`` keeps
    PostgreSQL from using the two-column unique indexes."""
    return "?" if conn.dialect.name == "sqlite" else "%s::integer"


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _in_clause(conn: Connection, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    if _postgres(conn):
        return f"{column} = ANY(%s::varchar[])", [list(values)]
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def existing_dedup_keys(conn: Connection, account_id: int, keys: Sequence[str]) -> set[str]:
    clause, params = _in_clause(conn, "dedup_key", keys)
    sql = f"SELECT dedup_key FROM {t.events.name} WHERE account_id = {_id_mark(conn)} AND {clause}"  # noqa: S608
    return {row[0] for row in conn.exec_driver_sql(sql, (account_id, *params))}


def insert_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflict_on: Sequence[str] = (),
) -> None:
    """``executemany`` of an INSERT (``ON CONFLICT DO NOTHING`` as a safety net)."""
    if not rows:
        return
    if not _postgres(conn):
        marks = ", ".join(["?"] * len(columns))
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        if ignore_conflict_on:
            sql += f" ON CONFLICT ({', '.join(ignore_conflict_on)}) DO NOTHING"
        conn.exec_driver_sql(sql, list(rows))  # sqlite3's executemany loops in C
        return
    sql, params = _unnest_insert(conn, table, columns, rows, ignore_conflict_on)
    conn.exec_driver_sql(sql, params)


def _unnest_insert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
) -> tuple[str, tuple[list[Any], ...]]:
    """PostgreSQL: one INSERT whatever the number of rows, each column sent as an array
    (psycopg's executemany sends one statement per row: more client CPU than the server
    spends)."""
    casts = ", ".join(
        f"%b::{table.c[name].type.compile(dialect=conn.dialect)}[]" for name in columns
    )
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts})"  # noqa: S608
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    return sql, tuple(list(column) for column in zip(*rows, strict=True))


def select_followers(
    conn: Connection, account_id: int, openids: Sequence[str]
) -> list[tuple[Any, ...]]:
    """(openid, *FOLLOWER_STATE_COLUMNS) rows of these followers."""
    clause, params = _in_clause(conn, "openid", openids)
    sql = (
        f"SELECT openid, {', '.join(FOLLOWER_STATE_COLUMNS)} FROM {t.followers.name} "  # noqa: S608
        f"WHERE account_id = {_id_mark(conn)} AND {clause}"
    )
    return [tuple(row) for row in conn.exec_driver_sql(sql, (account_id, *params))]


def update_followers(conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany`` UPDATE: each row is (*FOLLOWER_STATE_COLUMNS, updated_at, account_id,
    openid)."""
    if not rows:
        return
    mark = _mark(conn)
    sets = ", ".join(f"{name} = {mark}" for name in (*FOLLOWER_STATE_COLUMNS, "updated_at"))
    sql = (
        f"UPDATE {t.followers.name} SET {sets} "  # noqa: S608
        f"WHERE account_id = {_id_mark(conn)} AND openid = {mark}"
    )
    conn.exec_driver_sql(sql, list(rows))


def _pg(conn: Connection) -> Any:
    """The psycopg connection under ``conn`` (PostgreSQL only)."""
    return conn.connection.dbapi_connection


def _by_account(pairs: Sequence[tuple[int, str]]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for account_id, value in pairs:
        grouped.setdefault(account_id, []).append(value)
    return grouped


def select_signatures(conn: Connection, account_id: int, signed: Sequence[str]) -> list[Any]:
    """(signed_key, body_digest) rows of these signed keys (SQLite)."""
    clause, params = _in_clause(conn, "signed_key", signed)
    sql = (
        f"SELECT signed_key, body_digest FROM {t.push_signatures.name} "  # noqa: S608
        f"WHERE account_id = {_id_mark(conn)} AND {clause}"
    )
    return list(conn.exec_driver_sql(sql, (account_id, *params)))


class Prefetched:
    """What :func:`prefetch` read under the ingest lock."""

    __slots__ = ("claimed", "followers", "signatures", "stored")

    def __init__(self) -> None:
        self.stored: set[tuple[int, str]] = set()  # (account, dedup key) already logged
        self.followers: dict[tuple[int, str], tuple[Any, ...]] = {}  # (account, openid)
        # (account, signed key) -> digest, of the keys recorded before this batch
        self.signatures: dict[tuple[int, str], str] = {}
        # True: the claims were inserted already (PostgreSQL); write() must not again.
        self.claimed = False


def prefetch(
    conn: Connection,
    keys: Sequence[tuple[int, str]],
    openids: Sequence[tuple[int, str]],
    claims: Sequence[tuple[int, str, str, int]] = (),
) -> Prefetched:
    """Take the ingest lock of the accounts, then read which dedup keys are stored, the
    follower rows of ``openids`` and the body digests recorded before under the signed
    keys of ``claims`` (SIGNATURE_COLUMNS rows, one per key).

    On PostgreSQL the lock, the reads and the claims themselves (``INSERT … ON CONFLICT
    DO NOTHING RETURNING``: the keys not returned were recorded before) go in one
    pipeline, one round trip; only when some key was recorded before (a retry or a
    forgery) does a second query read their digests.
    """
    keys_by = _by_account(keys)
    openids_by = _by_account(openids)
    signed_by = _by_account([(claim[0], claim[1]) for claim in claims])
    accounts = sorted(set(keys_by) | set(openids_by) | set(signed_by))
    found = Prefetched()
    stored, rows, digests = found.stored, found.followers, found.signatures
    if not _postgres(conn):
        for account_id in accounts:
            if keys_by.get(account_id):
                dedup = existing_dedup_keys(conn, account_id, keys_by[account_id])
                stored.update((account_id, key) for key in dedup)
            if openids_by.get(account_id):
                for row in select_followers(conn, account_id, sorted(set(openids_by[account_id]))):
                    rows[(account_id, row[0])] = row[1:]
            if signed_by.get(account_id):
                for row in select_signatures(conn, account_id, sorted(set(signed_by[account_id]))):
                    digests[(account_id, row[0])] = row[1]
        return found
    pg = _pg(conn)
    key_sql = (
        f"SELECT dedup_key FROM {t.events.name} "  # noqa: S608
        "WHERE account_id = %s::integer AND dedup_key = ANY(%b::varchar[])"
    )
    follower_sql = (
        f"SELECT openid, {', '.join(FOLLOWER_STATE_COLUMNS)} FROM {t.followers.name} "  # noqa: S608
        "WHERE account_id = %s::integer AND openid = ANY(%b::varchar[])"
    )
    with pg.pipeline():
        for account_id in accounts:
            pg.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_PG_INGEST_LOCK, account_id))
        key_cursors = [
            (a, pg.execute(key_sql, (a, keys_by[a]))) for a in accounts if keys_by.get(a)
        ]
        follower_cursors = [
            (a, pg.execute(follower_sql, (a, sorted(set(openids_by[a])))))
            for a in accounts
            if openids_by.get(a)
        ]
        claim_cursor = None
        if claims:
            sql, params = _unnest_insert(
                conn, t.push_signatures, SIGNATURE_COLUMNS, claims, _SIGNATURE_KEY
            )
            claim_cursor = pg.execute(f"{sql} RETURNING account_id, signed_key", params)
        for account_id, cursor in key_cursors:
            stored.update((account_id, row[0]) for row in cursor.fetchall())
        for account_id, cursor in follower_cursors:
            for row in cursor.fetchall():
                rows[(account_id, row[0])] = tuple(row[1:])
        claimed = {(row[0], row[1]) for row in claim_cursor.fetchall()} if claim_cursor else set()
    found.claimed = True
    earlier = _by_account([(c[0], c[1]) for c in claims if (c[0], c[1]) not in claimed])
    for account_id, signed_keys in earlier.items():
        for row in select_signatures(conn, account_id, signed_keys):
            digests[(account_id, row[0])] = row[1]
    return found


# The outbox keeps rows only while some outbound webhook endpoint is enabled.
_ANY_ENDPOINT = f"EXISTS (SELECT 1 FROM {t.webhook_endpoints.name} WHERE enabled)"  # noqa: S608 - a table name
OUTBOX_COLUMNS = ("account_id", "dedup_key", "kind", "openid", "received_ms")


def write(
    conn: Connection,
    events: Sequence[Sequence[Any]],
    follower_inserts: Sequence[Sequence[Any]],
    follower_updates: Sequence[Sequence[Any]],
    jobs: Sequence[Sequence[Any]],
    outbox: Sequence[Sequence[Any]] = (),
    *,
    signatures: Sequence[Sequence[Any]] = (),
    unfollowed: Sequence[tuple[int, str]] = (),
    commit: bool = False,
) -> None:
    """Insert the events, followers, jobs (JOB_COLUMNS, the payload as JSON text) and
    push signatures (SIGNATURE_COLUMNS), update the changed followers, erase what WeChat's
    user/info told of the ``unfollowed`` (account, openid) pairs (WeChat's rule: delete a
    user's information on unfollow), add the outbound webhooks' outbox rows
    (OUTBOX_COLUMNS; kept only while an endpoint is enabled, decided by the INSERT itself
    so it costs no round trip), and with ``commit`` end the transaction.

    PostgreSQL: all of it, the COMMIT included, in one pipeline: one round trip. (The
    caller's ``Connection`` then commits a transaction the driver knows is finished,
    which sends nothing.) SQLite has no round trips: ``commit`` is left to the caller.
    """
    follower_columns = ("account_id", "openid", *FOLLOWER_STATE_COLUMNS, "updated_at")
    if not _postgres(conn):
        insert_rows(conn, t.events, EVENT_COLUMNS, events, ignore_conflict_on=_EVENT_KEY)
        insert_rows(conn, t.followers, follower_columns, follower_inserts)
        update_followers(conn, follower_updates)
        insert_rows(conn, t.jobs, JOB_COLUMNS, jobs)
        insert_rows(
            conn,
            t.push_signatures,
            SIGNATURE_COLUMNS,
            signatures,
            ignore_conflict_on=_SIGNATURE_KEY,
        )
        if unfollowed:
            conn.exec_driver_sql(_erase_user_info_sql("?", "?"), list(unfollowed))
        if outbox:
            names = ", ".join(OUTBOX_COLUMNS)
            marks = ", ".join("?" * len(OUTBOX_COLUMNS))
            conn.exec_driver_sql(
                f"INSERT INTO {t.webhook_outbox.name} ({names}) SELECT {marks} "
                f"WHERE {_ANY_ENDPOINT}",
                list(map(tuple, outbox)),
            )
        return
    pg = _pg(conn)
    with pg.pipeline():
        for table, columns, rows, conflict in (
            (t.events, EVENT_COLUMNS, events, _EVENT_KEY),
            (t.followers, follower_columns, follower_inserts, ()),
            (t.jobs, JOB_COLUMNS, jobs, ()),
            (t.push_signatures, SIGNATURE_COLUMNS, signatures, _SIGNATURE_KEY),
        ):
            if rows:
                sql, params = _unnest_insert(conn, table, columns, rows, conflict)
                pg.execute(sql, params)
        if outbox:
            sql, params = _unnest_insert(conn, t.webhook_outbox, OUTBOX_COLUMNS, outbox, ())
            pg.execute(f"{sql} WHERE {_ANY_ENDPOINT}", params)
        if follower_updates:
            sets = ", ".join(f"{name} = %s" for name in (*FOLLOWER_STATE_COLUMNS, "updated_at"))
            sql = (
                f"UPDATE {t.followers.name} SET {sets} "  # noqa: S608
                "WHERE account_id = %s::integer AND openid = %s"
            )
            pg.cursor().executemany(sql, list(follower_updates))
        if unfollowed:
            pg.cursor().executemany(_erase_user_info_sql("%s::integer", "%s"), list(unfollowed))
        if commit:
            pg.commit()


def _erase_user_info_sql(id_mark: str, mark: str) -> str:
    """UPDATE that empties USER_INFO_COLUMNS of one (account_id, openid), if unfollowed."""
    sets = ", ".join(f"{name} = NULL" for name in USER_INFO_COLUMNS)
    return (
        f"UPDATE {t.followers.name} SET {sets} "  # noqa: S608
        f"WHERE account_id = {id_mark} AND openid = {mark} AND NOT following"
    )


def prune_signatures(conn: Connection, before: int) -> int:
    """Forget the push signatures seen before ``before`` (Unix s); how many went."""
    sql = f"DELETE FROM {t.push_signatures.name} WHERE seen_at < {_mark(conn)}"  # noqa: S608
    result = conn.exec_driver_sql(sql, (before,))
    return max(result.rowcount, 0)


def analyze(conn: Connection) -> None:
    """Refresh the planner's statistics of the ingest tables (PostgreSQL only).

    The batch lookups go through the two-column unique indexes only when the planner
    knows the tables are not tiny; autovacuum normally sees to that, this covers a fresh
    table filling fast (or a server with autovacuum off).
    """
    if _postgres(conn):
        conn.exec_driver_sql(f"ANALYZE {t.events.name}, {t.followers.name}")
