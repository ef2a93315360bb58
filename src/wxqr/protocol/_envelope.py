"""Push envelopes in the three modes: verifying and opening, sealing and replying.

* plain — the push XML as is; ``signature`` over token, timestamp, nonce.
* compatible — the plain fields plus ``<Encrypt>``; ``encrypt_type=aes`` and
  ``msg_signature`` in the query. wxqr trusts only the encrypted copy, and refuses a
  push without one (a compatible or safe account takes no plaintext push).
* safe — only ``<ToUserName>`` and ``<Encrypt>``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from ._crypto import MessageCrypto, decode_aes_key
from ._errors import InvalidSignature, MalformedPush
from ._events import Push
from ._parse import push_from_fields
from ._signature import (
    check_timestamp,
    msg_signature,
    signature,
    verify_msg_signature,
    verify_signature,
)
from ._xml import DEFAULT_MAX_BYTES, parse_fields

__all__ = [
    "AccountKeys",
    "EncryptMode",
    "OpenedPush",
    "PushQuery",
    "SealedPush",
    "open_push",
    "open_reply",
    "seal_push",
    "seal_reply",
    "verify_url",
]


class EncryptMode(StrEnum):
    PLAIN = "plain"
    COMPATIBLE = "compatible"
    SAFE = "safe"


@dataclass(frozen=True)
class AccountKeys:
    """What an account's server needs to verify, open and answer pushes.

    ``token`` and ``encoding_aes_key`` are secrets: they never appear in ``repr``.
    """

    appid: str
    token: str = field(repr=False)
    encoding_aes_key: str | None = field(default=None, repr=False)
    mode: EncryptMode = EncryptMode.PLAIN

    def __post_init__(self) -> None:
        if self.encoding_aes_key is not None:
            decode_aes_key(self.encoding_aes_key)
        elif self.mode is not EncryptMode.PLAIN:
            raise ValueError(f"{self.mode.value} mode needs an EncodingAESKey")

    @cached_property
    def crypto(self) -> MessageCrypto | None:
        if self.encoding_aes_key is None:
            return None
        return MessageCrypto(self.encoding_aes_key, self.appid)


@dataclass(frozen=True, slots=True)
class PushQuery:
    """The query string WeChat sends with every push."""

    signature: str
    timestamp: str
    nonce: str
    openid: str = ""
    encrypt_type: str = ""
    msg_signature: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> PushQuery:
        return cls(
            signature=params.get("signature", ""),
            timestamp=params.get("timestamp", ""),
            nonce=params.get("nonce", ""),
            openid=params.get("openid", ""),
            encrypt_type=params.get("encrypt_type", ""),
            msg_signature=params.get("msg_signature", ""),
        )

    def to_params(self) -> dict[str, str]:
        params = {"signature": self.signature, "timestamp": self.timestamp, "nonce": self.nonce}
        if self.openid:
            params["openid"] = self.openid
        if self.encrypt_type:
            params["encrypt_type"] = self.encrypt_type
        if self.msg_signature:
            params["msg_signature"] = self.msg_signature
        return params

    @property
    def encrypted(self) -> bool:
        return self.encrypt_type.lower() == "aes"


@dataclass(frozen=True, slots=True)
class OpenedPush:
    """A verified push: the typed event, its plaintext XML and how it arrived."""

    push: Push
    xml: bytes
    encrypted: bool
    timestamp: int


@dataclass(frozen=True, slots=True)
class SealedPush:
    """A push ready to POST: its query and body."""

    query: PushQuery
    body: bytes


def verify_url(token: str, query: PushQuery, echostr: str) -> str:
    """The URL-verification handshake: return ``echostr`` only when the signature holds."""
    verify_signature(token, query.timestamp, query.nonce, query.signature)
    return echostr


def open_push(
    body: bytes,
    query: PushQuery,
    keys: AccountKeys,
    *,
    max_age: float = 600,
    now: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> OpenedPush:
    """Verify, decrypt and parse one push.

    Raises :class:`InvalidSignature` / :class:`StalePush` (refuse, 403),
    :class:`MalformedPush` / :class:`DecryptError` (bad request, 400).
    """
    if len(body) > max_bytes:
        raise MalformedPush(f"body is larger than the {max_bytes}-byte limit")
    verify_signature(keys.token, query.timestamp, query.nonce, query.signature)
    timestamp = check_timestamp(query.timestamp, max_age=max_age, now=now)
    outer = parse_fields(body, max_bytes=max_bytes)
    encrypt = outer.get("Encrypt")
    if keys.mode is EncryptMode.PLAIN:
        if query.encrypted:
            raise MalformedPush("encrypted push to an account configured for plain mode")
        return OpenedPush(push_from_fields(outer, now=now), body, False, timestamp)
    if not query.encrypted and encrypt is None:
        # WeChat seals every push to a compatible or safe account; a plaintext one is a
        # downgrade (only the token's signature holds, nothing proves the fields).
        raise MalformedPush(f"a {keys.mode.value}-mode account takes only encrypted pushes")
    crypto = keys.crypto
    if not encrypt or crypto is None:
        raise MalformedPush("encrypted push without an Encrypt field")
    if not query.msg_signature:
        raise InvalidSignature("msg_signature is missing")
    verify_msg_signature(keys.token, query.timestamp, query.nonce, encrypt, query.msg_signature)
    xml = crypto.decrypt(encrypt)
    inner = parse_fields(xml, max_bytes=max_bytes)
    push = push_from_fields(inner, now=now)
    envelope_to = outer.get("ToUserName")
    if envelope_to and envelope_to != push.to_user:
        raise MalformedPush("ToUserName of the envelope and the message differ")
    return OpenedPush(push, xml, True, timestamp)


def seal_push(
    xml: str | bytes,
    keys: AccountKeys,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    openid: str = "",
) -> SealedPush:
    """Produce what WeChat would POST for ``xml`` in the account's mode (the emulator's job)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nc = nonce if nonce is not None else str(int.from_bytes(os.urandom(4), "big"))
    plain_sig = signature(keys.token, ts, nc)
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    crypto = keys.crypto
    if keys.mode is EncryptMode.PLAIN or crypto is None:
        return SealedPush(PushQuery(plain_sig, ts, nc, openid), raw)
    encrypt = crypto.encrypt(raw)
    fields = parse_fields(raw)
    to_user = fields.get("ToUserName", "")
    if keys.mode is EncryptMode.SAFE:
        body = f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
        body += f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        out = body.encode("utf-8")
    else:
        text = raw.decode("utf-8")
        cut = text.rfind("</xml>")
        out = (text[:cut] + f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>").encode("utf-8")
    query = PushQuery(plain_sig, ts, nc, openid, "aes", msg_signature(keys.token, ts, nc, encrypt))
    return SealedPush(query, out)


def seal_reply(reply_xml: str, keys: AccountKeys, *, timestamp: str, nonce: str) -> str:
    """Wrap a reply in the encrypted envelope (``Encrypt``, ``MsgSignature``…)."""
    crypto = keys.crypto
    if crypto is None:
        raise ValueError("sealing a reply needs an EncodingAESKey")
    encrypt = crypto.encrypt(reply_xml)
    sig = msg_signature(keys.token, timestamp, nonce, encrypt)
    return (
        "<xml>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce><![CDATA[{nonce}]]></Nonce>"
        "</xml>"
    )


def open_reply(
    body: bytes | str, keys: AccountKeys, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes:
    """Verify and decrypt an encrypted reply envelope; return the reply's plaintext XML."""
    fields = parse_fields(body, max_bytes=max_bytes)
    crypto = keys.crypto
    encrypt = fields.get("Encrypt")
    if crypto is None or not encrypt:
        raise MalformedPush("not an encrypted reply envelope")
    verify_msg_signature(
        keys.token,
        fields.get("TimeStamp", ""),
        fields.get("Nonce", ""),
        encrypt,
        fields.get("MsgSignature", ""),
    )
    return crypto.decrypt(encrypt)
