"""Tickets in WeChat's observed binary shape."""

from __future__ import annotations

import base64

from wxqr.emulator import decode_ticket
from wxqr.emulator.tickets import CODE_URL_PREFIX, mint_ticket, new_code_url

# A public sample ticket from WeChat's documentation era.
SAMPLE = (
    "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJ"
    "AAIEZ23sUwMEmm3sUw=="
)


def test_decodes_a_real_sample() -> None:
    info = decode_ticket(SAMPLE)
    assert info is not None
    assert info.url == "http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI"
    assert info.created_at == 0x53EC6D67


def test_minted_ticket_has_the_sample_layout() -> None:
    url = new_code_url()
    assert url.startswith(CODE_URL_PREFIX + "02")
    assert len(url) == len(CODE_URL_PREFIX) + 22
    ticket = mint_ticket(url, 1_700_000_000, 1800)
    raw = base64.b64decode(ticket)
    sample = base64.b64decode(SAMPLE)
    assert raw[:2] == sample[:2] == b"\x81\x01"
    assert raw[4] == len(raw) - 12
    assert raw[5:13] == sample[5:13] == bytes(7) + b"\x01"
    assert raw[13] == len(url) + 1
    assert raw[-13:-10] == sample[-13:-10] == b"\x00\x02\x04"
    assert raw[-10:-6] == (1_700_000_000).to_bytes(4, "little")
    assert raw[-6:] == b"\x03\x04\x08\x07\x00\x00"
    info = decode_ticket(ticket)
    assert info is not None
    assert (info.url, info.created_at, info.expire_seconds) == (url, 1_700_000_000, 1800)


def test_tickets_differ_for_the_same_url() -> None:
    url = new_code_url()
    assert mint_ticket(url, 1, 0) != mint_ticket(url, 1, 0)


def test_garbage_is_not_a_ticket() -> None:
    assert decode_ticket("not base64!") is None
    assert decode_ticket(base64.b64encode(b"\x00" * 40).decode()) is None
