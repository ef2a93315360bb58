"""The writer process's wire format: every message decodes to what was encoded."""

from __future__ import annotations

import pickle

from wxqr.protocol import TextReply
from wxqr.service.ingest import (
    IncomingPush,
    IngestUnavailable,
    JobPolicy,
    Recorded,
    SceneInfo,
    WriterConfig,
)
from wxqr.service.ingest._wire import (
    READY,
    STOP,
    FrameBuffer,
    decode_answer,
    decode_config,
    decode_request,
    encode_answer,
    encode_config,
    encode_request,
    frame,
)


def _push(n: int, **fields: object) -> IncomingPush:
    values: dict[str, object] = {
        "account_id": 3,
        "dedup_key": f"key-{n}",
        "kind": "subscribe_scan",
        "openid": f"o-{n}",
        "to_user": "gh_1",
        "msg_type": "event",
        "event": "subscribe",
        "event_key": "qrscene_42",
        "scene": "42",
        "ticket": "T" * 20,
        "create_time": 1_700_000_000 + n,
        "received_at": 1_700_000_000_123 + n,
        "raw_xml": "<xml>场景</xml>",
    }
    values.update(fields)
    return IncomingPush(**values)  # type: ignore[arg-type]


def _payloads(data: bytes) -> list[bytes]:
    return list(FrameBuffer().feed(data))


def test_a_request_round_trips() -> None:
    policy = JobPolicy(frozenset({3, 9}), fetch_user_info=False)
    entries = [(7, 123.5, _push(1)), (8, 124.0, _push(2, scene=None, ticket=None, raw_xml=None))]
    (payload,) = _payloads(encode_request(41, policy, entries))
    request = decode_request(payload)
    assert request.catalog_version == 41
    assert request.policy == policy
    assert request.entries == entries


def test_an_answer_round_trips_with_both_outcomes() -> None:
    info = SceneInfo(
        scene_ref=5,
        channel_id=2,
        scene_reply=TextReply("hi {openid}"),
        channel_reply=None,
        follower_tags=("vip",),
    )
    sent = [
        (1, Recorded(inserted=True, scene_info=info, orphan=False)),
        (2, Recorded(inserted=False, scene_info=None, orphan=True)),
        (3, IngestUnavailable("the store is unavailable")),
    ]
    (payload,) = _payloads(encode_answer(sent))
    received = decode_answer(payload)
    assert [seq for seq, _ in received] == [1, 2, 3]
    assert received[0][1] == sent[0][1]
    assert received[1][1] == sent[1][1]
    failed = received[2][1]
    assert isinstance(failed, IngestUnavailable)
    assert str(failed) == "the store is unavailable"


def test_config_ready_and_stop_frames() -> None:
    config = WriterConfig("sqlite:///secret-place.db", synchronous="NORMAL", batch_max=10)
    (payload,) = _payloads(encode_config(config))
    assert decode_config(payload) == config
    assert "secret-place" not in repr(config)
    assert decode_config(pickle.dumps({"database_url": "x"})) is None
    assert _payloads(frame(READY) + STOP) == [READY, b""]


def test_frames_split_anywhere_are_reassembled() -> None:
    data = b"".join(encode_request(1, JobPolicy(), [(n, 1.0, _push(n))]) for n in range(3))
    buffer = FrameBuffer()
    payloads: list[bytes] = []
    for start in range(0, len(data), 7):
        payloads.extend(buffer.feed(data[start : start + 7]))
    assert [decode_request(p).entries[0][2] for p in payloads] == [_push(n) for n in range(3)]
