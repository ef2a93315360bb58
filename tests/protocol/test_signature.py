from __future__ import annotations

import pytest

from wxqr.protocol import (
    InvalidSignature,
    StalePush,
    check_timestamp,
    msg_signature,
    signature,
    verify_msg_signature,
    verify_signature,
)

from . import vectors as v


def test_official_plain_signature() -> None:
    assert signature(v.PLAIN_TOKEN, v.PLAIN_TIMESTAMP, v.PLAIN_NONCE) == v.PLAIN_SIGNATURE


def test_signature_is_order_independent() -> None:
    assert signature("a", "b", "c") == signature("c", "a", "b")


def test_verify_accepts_official_and_upper_case() -> None:
    verify_signature(v.PLAIN_TOKEN, v.PLAIN_TIMESTAMP, v.PLAIN_NONCE, v.PLAIN_SIGNATURE)
    verify_signature(v.PLAIN_TOKEN, v.PLAIN_TIMESTAMP, v.PLAIN_NONCE, v.PLAIN_SIGNATURE.upper())


@pytest.mark.parametrize("given", [v.PLAIN_SIGNATURE_MUST_FAIL, "", "not-hex", "é" * 40])
def test_verify_rejects_wrong_signature(given: str) -> None:
    with pytest.raises(InvalidSignature, match="signature does not match"):
        verify_signature(v.PLAIN_TOKEN, v.PLAIN_TIMESTAMP, v.PLAIN_NONCE, given)


def test_official_msg_signature() -> None:
    assert (
        msg_signature(v.AES_TOKEN, v.AES_TIMESTAMP, v.AES_NONCE, v.AES_ENCRYPT)
        == v.AES_MSG_SIGNATURE
    )
    verify_msg_signature(
        v.AES_TOKEN, v.AES_TIMESTAMP, v.AES_NONCE, v.AES_ENCRYPT, v.AES_MSG_SIGNATURE
    )


def test_msg_signature_covers_the_encrypt_field() -> None:
    with pytest.raises(InvalidSignature, match="msg_signature"):
        verify_msg_signature(
            v.AES_TOKEN, v.AES_TIMESTAMP, v.AES_NONCE, v.AES_ENCRYPT + "x", v.AES_MSG_SIGNATURE
        )


def test_signature_error_does_not_leak_the_token() -> None:
    with pytest.raises(InvalidSignature) as caught:
        verify_signature("super-secret-token", "1", "2", "00")
    assert "super-secret-token" not in str(caught.value)


class TestTimestamp:
    def test_fresh_timestamp_passes(self) -> None:
        assert check_timestamp("1000", max_age=600, now=1500) == 1000

    @pytest.mark.parametrize("now", [1601, 399])
    def test_outside_window_in_either_direction(self, now: float) -> None:
        with pytest.raises(StalePush, match="600 s"):
            check_timestamp("1000", max_age=600, now=now)

    def test_boundary_is_inclusive(self) -> None:
        assert check_timestamp("1000", max_age=600, now=1600) == 1000

    def test_zero_window_turns_the_check_off(self) -> None:
        assert check_timestamp("1", max_age=0, now=10**10) == 1

    @pytest.mark.parametrize("raw", ["", "abc", "12.5"])
    def test_non_integer(self, raw: str) -> None:
        with pytest.raises(StalePush, match="not an integer"):
            check_timestamp(raw, max_age=0)

    def test_default_now_is_the_clock(self) -> None:
        import time

        assert check_timestamp(str(int(time.time())), max_age=60) > 0
