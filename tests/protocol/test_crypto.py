from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from wxqr.protocol import (
    AppIdMismatch,
    DecryptError,
    InvalidAESKey,
    MessageCrypto,
    decode_aes_key,
)

from . import vectors as v

KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _raw_encrypt(plain: bytes, key: str = v.AES_KEY) -> str:
    """Encrypt arbitrary (already padded) bytes, to build hostile ciphertexts."""
    raw_key = decode_aes_key(key)
    enc = Cipher(algorithms.AES(raw_key), modes.CBC(raw_key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def test_official_vector_encrypts_exactly() -> None:
    crypto = MessageCrypto(v.AES_KEY, v.AES_APPID)
    assert crypto.encrypt(v.AES_PLAINTEXT, random16=v.AES_RANDOM16) == v.AES_ENCRYPT


def test_official_vector_decrypts() -> None:
    crypto = MessageCrypto(v.AES_KEY, v.AES_APPID)
    assert crypto.decrypt(v.AES_ENCRYPT).decode("utf-8") == v.AES_PLAINTEXT


def test_wrong_appid_is_refused() -> None:
    crypto = MessageCrypto(v.AES_KEY, "wx0000000000000000")
    with pytest.raises(AppIdMismatch) as caught:
        crypto.decrypt(v.AES_ENCRYPT)
    assert caught.value.found == v.AES_APPID
    assert caught.value.expected == "wx0000000000000000"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "short",
        v.AES_KEY + "H",  # 44 characters
        v.AES_KEY[:-1] + "=",  # padding character
        v.AES_KEY[:-1] + "-",  # url-safe alphabet is not WeChat's
    ],
)
def test_encoding_aes_key_is_validated(key: str) -> None:
    with pytest.raises(InvalidAESKey, match="43 characters"):
        MessageCrypto(key, v.AES_APPID)


def test_repr_hides_the_key() -> None:
    crypto = MessageCrypto(v.AES_KEY, v.AES_APPID)
    assert v.AES_KEY not in repr(crypto)
    assert "hidden" in repr(crypto)
    assert crypto.appid == v.AES_APPID


def test_random_prefix_makes_ciphertexts_differ() -> None:
    crypto = MessageCrypto(v.AES_KEY, v.AES_APPID)
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_random16_must_be_16_bytes() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        MessageCrypto(v.AES_KEY, v.AES_APPID).encrypt("x", random16=b"short")


@pytest.mark.parametrize(
    ("ciphertext", "message"),
    [
        ("not base64!!", "base64"),
        ("", "multiple of 16"),
        (base64.b64encode(b"x" * 15).decode(), "multiple of 16"),
    ],
)
def test_garbage_ciphertext(ciphertext: str, message: str) -> None:
    with pytest.raises(DecryptError, match=message):
        MessageCrypto(v.AES_KEY, v.AES_APPID).decrypt(ciphertext)


def test_wrong_key_fails_cleanly() -> None:
    other = "B" * 43
    with pytest.raises(DecryptError):
        MessageCrypto(other, v.AES_APPID).decrypt(v.AES_ENCRYPT)


@pytest.mark.parametrize("pad", [0, 33, 200])
def test_pad_outside_1_to_32_is_refused(pad: int) -> None:
    plain = b"a" * 16 + struct.pack(">I", 1) + b"m" + v.AES_APPID.encode()
    plain += b"\x00" * (-len(plain) % 32)
    plain = plain[:-1] + bytes([pad])
    with pytest.raises(DecryptError, match="padding"):
        MessageCrypto(v.AES_KEY, v.AES_APPID).decrypt(_raw_encrypt(plain))


def test_inconsistent_padding_bytes_are_refused() -> None:
    plain = b"a" * 16 + struct.pack(">I", 1) + b"m" + v.AES_APPID.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad + 1 if pad < 32 else 1]) * (pad - 1) + bytes([pad])
    with pytest.raises(DecryptError, match="padding"):
        MessageCrypto(v.AES_KEY, v.AES_APPID).decrypt(_raw_encrypt(plain))


def test_length_field_larger_than_buffer_is_refused() -> None:
    plain = b"a" * 16 + struct.pack(">I", 10_000) + b"m" + v.AES_APPID.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    with pytest.raises(DecryptError, match="length field"):
        MessageCrypto(v.AES_KEY, v.AES_APPID).decrypt(_raw_encrypt(plain))


def test_plaintext_too_short_for_length_field() -> None:
    plain = b"a" * 16 + b"\x01\x02"
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    with pytest.raises(DecryptError, match="too short"):
        MessageCrypto(v.AES_KEY, v.AES_APPID).decrypt(_raw_encrypt(plain))


aes_keys = st.text(alphabet=KEY_ALPHABET, min_size=43, max_size=43)


@settings(max_examples=150, deadline=None)
@given(message=st.text(), appid=st.text(min_size=1, max_size=40), key=aes_keys)
def test_round_trip_any_utf8_message_and_appid(message: str, appid: str, key: str) -> None:
    crypto = MessageCrypto(key, appid)
    assert crypto.decrypt(crypto.encrypt(message)).decode("utf-8") == message


@settings(max_examples=100, deadline=None)
@given(message=st.binary(max_size=2000))
def test_padding_is_always_1_to_32_and_block_aligned(message: bytes) -> None:
    crypto = MessageCrypto(v.AES_KEY, v.AES_APPID)
    raw = base64.b64decode(crypto.encrypt(message))
    assert len(raw) % 32 == 0
    assert crypto.decrypt(base64.b64encode(raw)) == message
