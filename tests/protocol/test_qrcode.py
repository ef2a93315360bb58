from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from wxqr.protocol import (
    MAX_EXPIRE_SECONDS,
    MAX_PERMANENT_SCENE_ID,
    MAX_TEMPORARY_SCENE_ID,
    InvalidQRRequest,
    QRKind,
    QRRequest,
    show_url,
)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            QRRequest.temporary(123, 604800),
            {"expire_seconds": 604800, "action_name": "QR_SCENE",
             "action_info": {"scene": {"scene_id": 123}}},
        ),
        (
            QRRequest.temporary("test", 604800),
            {"expire_seconds": 604800, "action_name": "QR_STR_SCENE",
             "action_info": {"scene": {"scene_str": "test"}}},
        ),
        (
            QRRequest.permanent(123),
            {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 123}}},
        ),
        (
            QRRequest.permanent("test"),
            {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "test"}}},
        ),
    ],
)  # fmt: skip
def test_payloads_match_the_documented_bodies(
    request_: QRRequest, expected: dict[str, object]
) -> None:
    assert request_.payload() == expected
    assert json.loads(request_.to_json()) == expected


def test_temporary_expiry_is_always_sent() -> None:
    request = QRRequest.temporary(1)
    assert request.payload()["expire_seconds"] == MAX_EXPIRE_SECONDS
    assert request.kind is QRKind.TEMPORARY
    assert not request.is_permanent


def test_non_ascii_scene_str_is_sent_as_utf8() -> None:
    assert "门店".encode() in QRRequest.permanent("门店").to_json()


@pytest.mark.parametrize("scene_id", [1, MAX_TEMPORARY_SCENE_ID])
def test_temporary_scene_id_bounds_accepted(scene_id: int) -> None:
    assert QRRequest.temporary(scene_id).scene == scene_id


@pytest.mark.parametrize("scene_id", [0, -1, MAX_TEMPORARY_SCENE_ID + 1])
def test_temporary_scene_id_out_of_range(scene_id: int) -> None:
    with pytest.raises(InvalidQRRequest, match=r"scene_id must be 1\.\.4294967295") as caught:
        QRRequest.temporary(scene_id)
    assert caught.value.field == "scene_id"
    assert caught.value.value == scene_id


@pytest.mark.parametrize("scene_id", [0, MAX_PERMANENT_SCENE_ID + 1, 4_000_000])
def test_permanent_scene_id_out_of_range(scene_id: int) -> None:
    with pytest.raises(InvalidQRRequest, match=r"1\.\.100000 for a permanent code"):
        QRRequest.permanent(scene_id)


def test_permanent_scene_id_upper_bound_accepted() -> None:
    assert QRRequest.permanent(MAX_PERMANENT_SCENE_ID).scene == MAX_PERMANENT_SCENE_ID


@pytest.mark.parametrize("scene", ["", "x" * 65])
def test_scene_str_length(scene: str) -> None:
    with pytest.raises(InvalidQRRequest, match=r"scene_str must be 1\.\.64 characters"):
        QRRequest.permanent(scene)


def test_scene_str_of_64_characters_is_fine() -> None:
    assert QRRequest.temporary("x" * 64).scene == "x" * 64


@pytest.mark.parametrize("expire", [0, -5, MAX_EXPIRE_SECONDS + 1, None, True, 1.5])
def test_expire_seconds_bounds(expire: object) -> None:
    with pytest.raises(InvalidQRRequest, match=r"expire_seconds must be 1\.\.2592000"):
        QRRequest(QRKind.TEMPORARY, 1, expire)  # type: ignore[arg-type]


def test_permanent_code_takes_no_expiry() -> None:
    with pytest.raises(InvalidQRRequest, match="absent for a permanent code"):
        QRRequest(QRKind.PERMANENT, 1, 60)


@pytest.mark.parametrize("scene", [True, 1.5, None, b"x"])
def test_scene_type(scene: object) -> None:
    with pytest.raises(InvalidQRRequest, match="scene must be an int"):
        QRRequest.temporary(scene)  # type: ignore[arg-type]


def test_invalid_request_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="scene_id"):
        QRRequest.temporary(0)


def test_show_url_encodes_the_ticket_exactly_once() -> None:
    ticket = "gQH47joAAAAAAAAAASxodHRwOi8v+/d2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJ=="
    url = show_url(ticket)
    assert url.startswith("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=")
    for encoded in ("%2B", "%2F", "%3D"):
        assert encoded in url
    assert "%25" not in url  # not double-encoded
    assert parse_qs(urlsplit(url).query)["ticket"] == [ticket]


def test_show_url_with_another_base() -> None:
    assert show_url("t", "http://127.0.0.1:8081/") == (
        "http://127.0.0.1:8081/cgi-bin/showqrcode?ticket=t"
    )


def test_show_url_needs_a_ticket() -> None:
    with pytest.raises(InvalidQRRequest, match="ticket"):
        show_url("")
