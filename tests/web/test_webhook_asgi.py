"""The webhook's own ASGI layer: paths, methods, query strings, and the writer's frames."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.support import pushes as p
from wxqr.service.ingest._wire import FrameBuffer, frame
from wxqr.settings import Settings, SettingsError
from wxqr.store.db import is_memory_database
from wxqr.web.webhook import parse_query, webhook_appid

MakeClient = Callable[..., TestClient]


@pytest.mark.parametrize(
    ("path", "appid"),
    [
        ("/wechat", ""),
        ("/wechat/", ""),
        ("/wechat/wx123", "wx123"),
        ("/wechat/wx123/", "wx123"),
        ("/wechatx", None),
        ("/wechat/wx123/more", None),
        ("/api/v1/wechat", None),
        ("/", None),
    ],
)
def test_webhook_paths(path: str, appid: str | None) -> None:
    assert webhook_appid(path) == appid


def test_query_strings_decode_like_starlette() -> None:
    assert parse_query(b"") == {}
    assert parse_query(b"a=1&b=2&&a=3") == {"a": "3", "b": "2"}
    assert parse_query(b"echostr=a%2Bb+c&flag") == {"echostr": "a+b c", "flag": ""}
    assert parse_query(b"nonce=%E4%B8%AD") == {"nonce": "中"}


def test_other_methods_get_405_and_other_paths_reach_the_framework(
    make_client: MakeClient,
) -> None:
    client = make_client()
    response = client.put(f"/wechat/{p.APPID}", content=b"<xml/>")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert client.get("/wechatfoo").status_code == 404
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_body_without_content_length_is_still_limited(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=1024)
    sealed = p.seal(p.subscribe("o-chunked", int(time.time())), p.keys_for(p.MODES[0]))

    def chunks() -> object:
        yield sealed.body
        yield b" " * 2048

    response = client.post(
        f"/wechat/{p.APPID}",
        params=sealed.query.to_params(),
        content=chunks(),  # type: ignore[arg-type]
    )
    assert response.status_code == 413


@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(1, 64))
def test_frames_survive_any_split(payloads: list[bytes], piece: int) -> None:
    stream = b"".join(frame(x) for x in payloads)
    buffer = FrameBuffer()
    out: list[bytes] = []
    for start in range(0, len(stream), piece):
        out.extend(buffer.feed(stream[start : start + piece]))
    assert out == payloads


@pytest.mark.parametrize(
    ("url", "memory"),
    [
        ("sqlite://", True),
        ("sqlite:///:memory:", True),
        ("sqlite:///file:x?mode=memory&cache=shared&uri=true", True),
        ("sqlite:///wxqr.sqlite3", False),
        ("postgresql://u@h/db", False),
    ],
)
def test_memory_databases_are_recognised(url: str, memory: bool) -> None:
    assert is_memory_database(url) is memory


def test_the_writer_kind_comes_from_the_environment() -> None:
    assert Settings.from_env({}).ingest_writer == "process"
    assert Settings.from_env({"WXQR_INGEST_WRITER": "Thread"}).ingest_writer == "thread"
    with pytest.raises(SettingsError, match="WXQR_INGEST_WRITER"):
        Settings.from_env({"WXQR_INGEST_WRITER": "fork"})
