"""The use cases the adapters share, tested once at the service level: create a channel
with its first code (all or nothing), the code-spec rules, the default-account rule, the
reply input rule, stats queries, and WeChat failures as one UpstreamError."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine

from tests.support.stack import make_settings
from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import MAX_EXPIRE_SECONDS, QRKind, TextReply
from wxqr.service.accounts import Account, UnknownAccount, add_account, resolve_account
from wxqr.service.channels import NewChannel
from wxqr.service.code_spec import parse_code_spec
from wxqr.service.codes import CodeSpec, SceneType
from wxqr.service.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
    UpstreamError,
)
from wxqr.service.replies import InvalidReply, reply_from_input
from wxqr.service.stats import Granularity, StatsTable, UnknownChannel
from wxqr.service.stats.export import build_table, export_file
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]
CREATE = "/cgi-bin/qrcode/create"


# -- create a channel with its first code --------------------------------------------------
def test_create_with_code_issues_the_first_code(ws: WS) -> None:
    workspace, account = ws
    made = workspace.channel_codes.create(
        account.id, NewChannel(name="Poster"), parse_code_spec("temporary", "str")
    )
    assert made.code is not None
    assert (made.code.channel_id, made.code.kind, made.code.scene_type) == (
        made.channel.id,
        QRKind.TEMPORARY,
        SceneType.STR,
    )
    assert made.code.ticket
    assert made.code.url
    assert workspace.codes.current_code(made.channel.id) == made.code
    bare = workspace.channel_codes.create(account.id, NewChannel(name="Later"))
    assert bare.code is None
    assert workspace.channels.get(bare.channel.id).name == "Later"


def test_create_with_code_leaves_nothing_when_wechat_refuses(
    ws: WS, emulator: RunningEmulator
) -> None:
    workspace, account = ws
    emulator.set_faults(busy_ratio=1.0, paths=[CREATE], seed=1)
    try:
        with pytest.raises(UpstreamError, match="WeChat refused to issue the code"):
            workspace.channel_codes.create(account.id, NewChannel(name="Refused"), CodeSpec())
    finally:
        emulator.set_faults()
    with pytest.raises(NotFoundError):
        workspace.channels.find(account.id, "Refused")
    # The name is free again: the retry succeeds.
    again = workspace.channel_codes.create(account.id, NewChannel(name="Refused"), CodeSpec())
    assert again.code is not None


def test_create_with_code_leaves_nothing_when_the_code_is_invalid(ws: WS) -> None:
    workspace, account = ws
    taken = workspace.channel_codes.create(
        account.id, NewChannel(name="First"), CodeSpec(scene_type=SceneType.STR, scene="spring")
    )
    assert taken.code is not None
    with pytest.raises(ConflictError, match="already used"):
        workspace.channel_codes.create(
            account.id,
            NewChannel(name="Second"),
            CodeSpec(scene_type=SceneType.STR, scene="spring"),
        )
    assert [c.name for c in workspace.channels.list_channels(account.id)] == ["First"]


def test_unreachable_wechat_is_an_upstream_error_saying_so(
    engine: Engine, database_url: str, emulator: RunningEmulator, ws: WS
) -> None:
    _, account = ws
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = replace(make_settings(database_url, emulator), wechat_api_base=closed)
    offline = Workspace.open(engine, settings)
    with pytest.raises(UpstreamError, match="could not reach WeChat to issue the code"):
        offline.channel_codes.create(account.id, NewChannel(name="Offline"), CodeSpec())
    with pytest.raises(NotFoundError):
        offline.channels.find(account.id, "Offline")


# -- the code-spec rules -------------------------------------------------------------------
def test_code_spec_defaults_and_conversions() -> None:
    assert parse_code_spec() == CodeSpec(QRKind.PERMANENT, SceneType.ID, None, None)
    assert parse_code_spec(" Temporary ", "", "  ") == CodeSpec(
        QRKind.TEMPORARY, SceneType.ID, None, MAX_EXPIRE_SECONDS
    )
    assert parse_code_spec("permanent", "id", "42").scene == 42
    assert parse_code_spec("permanent", "str", 42).scene == "42"
    assert parse_code_spec("temporary", expire_days="7").expire_seconds == 7 * 86_400
    assert parse_code_spec("temporary", expire_seconds=60).expire_seconds == 60


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"kind": "forever"}, "kind", "kind must be permanent or temporary"),
        ({"scene_type": "uuid"}, "scene_type", "scene_type must be id or str"),
        ({"scene": "abc"}, "scene", "not an integer id"),
        ({"expire_days": 3}, "expire_days", "permanent code has no expire_days"),
        ({"kind": "temporary", "expire_days": "31"}, "expire_days", "1..30 days"),
        ({"kind": "temporary", "expire_days": "x"}, "expire_days", "whole number"),
        ({"kind": "temporary", "expire_seconds": 0}, "expire_seconds", "1..2592000"),
        ({"kind": "temporary", "expire_days": 1, "expire_seconds": 1}, "expire", "not both"),
    ],
)
def test_code_spec_refusals_name_the_field(
    kwargs: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as refused:
        parse_code_spec(**kwargs)  # type: ignore[arg-type]
    assert refused.value.field == field


# -- the default-account rule --------------------------------------------------------------
def test_the_default_account_rule(engine: Engine) -> None:
    with pytest.raises(UnknownAccount, match="no account is configured yet") as none:
        resolve_account(engine)
    assert isinstance(none.value, NotFoundError)
    first = add_account(engine, appid="wxfirst", token="t1")
    assert resolve_account(engine) == first
    second = add_account(engine, appid="wxsecond", token="t2")
    with pytest.raises(InvalidInputError, match="several accounts") as several:
        resolve_account(engine)
    assert not isinstance(several.value, NotFoundError)
    assert resolve_account(engine, first_of_several=True) == first
    assert resolve_account(engine, "wxsecond") == second
    assert resolve_account(engine, second.id) == second
    assert resolve_account(engine, str(second.id)) == second
    with pytest.raises(NotFoundError, match="no account with appid 'wxnope'"):
        resolve_account(engine, "wxnope")


# -- reply input -----------------------------------------------------------------------------
def test_reply_input_rule() -> None:
    assert reply_from_input(None) is None
    assert reply_from_input("   ") is None
    assert reply_from_input(" Hi {scene} ") == TextReply("Hi {scene}")
    assert reply_from_input({"type": "image", "media_id": "M"}) is not None
    with pytest.raises(InvalidReply) as refused:
        reply_from_input({"type": "video"})
    assert isinstance(refused.value, InvalidInputError)
    assert refused.value.field == "reply"


# -- stats queries ---------------------------------------------------------------------------
def test_stats_query_defaults_scope_and_tables(ws: WS) -> None:
    workspace, account = ws
    made = workspace.channel_codes.create(account.id, NewChannel(name="Q", group="g"))
    query = workspace.stats.query()
    assert query.account.id == account.id
    assert (query.date_to - query.date_from).days == 29
    assert query.date_to == workspace.stats.today(account.timezone)
    assert query.channel_ids is None
    assert query.granularity is Granularity.DAY
    scoped = workspace.stats.query(
        account.appid,
        date_from=date(2024, 5, 1),
        date_to=date(2024, 5, 3),
        channels=["Q", made.channel.id],
        group=" ",
        granularity="hour",
    )
    assert scoped.channel_ids == (made.channel.id,)
    assert scoped.group is None
    assert scoped.head()["from"] == "2024-05-01"
    series = build_table(workspace.stats, scoped, StatsTable.SERIES)
    assert len(series.rows) == 72
    channels = build_table(workspace.stats, scoped, "channels")
    assert [row[1] for row in channels.rows] == ["Q"]
    file = export_file(workspace.stats, scoped, "summary", "csv")
    assert file.filename == f"wxqr-summary-channel{made.channel.id}-2024-05-01-2024-05-03.csv"
    assert file.content.decode("utf-8-sig").startswith("scans,")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"date_from": date(2024, 5, 4), "date_to": date(2024, 5, 3)}, InvalidInputError, "after"),
        ({"channels": ["nope"]}, UnknownChannel, "no channel named"),
        ({"channels": [10**9]}, UnknownChannel, "no channel with id"),
        ({"granularity": "decade"}, InvalidInputError, "unknown granularity"),
        ({"timezone": "Mars/Base"}, InvalidInputError, "unknown time zone"),
    ],
)
def test_stats_query_refusals(
    ws: WS, kwargs: dict[str, object], error: type[ServiceError], message: str
) -> None:
    workspace, _ = ws
    with pytest.raises(error, match=message):
        workspace.stats.query(**kwargs)  # type: ignore[arg-type]


def test_unknown_channels_and_accounts_are_not_found(ws: WS) -> None:
    workspace, _ = ws
    with pytest.raises(NotFoundError):
        workspace.stats.query(channels=["nope"])
    with pytest.raises(NotFoundError):
        workspace.stats.query("wxnope")
    with pytest.raises(NotFoundError):
        workspace.account("wxnope")
