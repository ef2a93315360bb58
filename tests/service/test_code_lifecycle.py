"""Issue 19 §1: temporary codes renew before expiry, scans keep counting through the
switch, code.expiring / code.renewed reach the webhooks (verified with standardwebhooks),
and an expired code's export is refused — with the emulator's clock moved forward."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.support.lifecycle_stack import lifecycle_stack, scans_of_channel
from tests.support.qr import decode_png
from tests.support.stack import openids
from tests.support.webhook_receiver import Receiver
from wxqr.protocol import QRKind
from wxqr.service.bulk import build_zip
from wxqr.service.channels import NewChannel
from wxqr.service.code_expiry import CodeExpiredError, check_exportable
from wxqr.service.code_images import ImageSpec
from wxqr.service.code_lifecycle import parse_duration
from wxqr.service.codes import CodeSpec, CodeStatus, SceneType
from wxqr.service.errors import InvalidInputError
from wxqr.service.webhooks import AddressPolicy, DispatcherOptions, WebhookDispatcher
from wxqr.store.engines import make_writer_engine

DAY = 86400
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _documented(event_type: str) -> dict[str, Any]:
    """The JSON Schema of ``data`` of ``event_type`` as docs/webhooks.md gives it."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split(f"`data` of `{event_type}`:\n```json\n", 1)[1].split("```", 1)[0]
    schema: dict[str, Any] = json.loads(block)
    return schema


def _temporary(days: int, scene_type: SceneType = SceneType.ID) -> CodeSpec:
    return CodeSpec(kind=QRKind.TEMPORARY, scene_type=scene_type, expire_seconds=days * DAY)


def _deliver(database_url: str, receiver: Receiver, wanted: int) -> list[dict[str, Any]]:
    """Run a delivery worker until ``wanted`` messages arrived; their verified documents."""
    engine = make_writer_engine(database_url)
    dispatcher = WebhookDispatcher(
        engine,
        AddressPolicy(allow_http=True, allow_private=True),
        DispatcherOptions(poll_seconds=0.05, retry_schedule=(0.2, 0.4), lease_seconds=3.0),
    )
    dispatcher.start()
    try:
        got = receiver.wait_for(lambda r: len(r) >= wanted)
    finally:
        dispatcher.stop()
        engine.dispose()
    return [item.document for item in got]


def test_a_code_renews_before_expiry_and_both_tickets_keep_counting(
    engine: Engine, database_url: str, receiver: Receiver
) -> None:
    with lifecycle_stack(engine, database_url) as stack:
        ws = stack.ws
        hook = ws.webhooks.create(receiver.url + "/hooks", ["code.renewed", "code.expiring"])
        renewing = ws.channel_codes.create(
            stack.account.id, NewChannel(name="Screen", group="lobby"), _temporary(5)
        )
        quiet = ws.channel_codes.create(
            stack.account.id, NewChannel(name="Flyer"), _temporary(5, SceneType.STR)
        )
        old = renewing.code
        assert old is not None
        assert old.ticket is not None
        assert ws.lifecycle.set_renewal(renewing.channel.id, True).lead_seconds == 2 * DAY

        first = ws.lifecycle.run_due()  # nothing is near its end yet
        assert first.renewed == []
        assert first.notified == []

        stack.advance(3 * DAY + 3600)  # 2 days less an hour before expiry
        run = ws.lifecycle.run_due()
        assert len(run.renewed) == 1
        assert run.renewed[0][0] == old.id
        assert quiet.code is not None
        assert run.notified == [quiet.code.id]
        assert ws.lifecycle.run_due().renewed == []  # once only
        new = ws.codes.current_code(renewing.channel.id)
        assert new is not None
        assert new.id == run.renewed[0][1]
        assert new.scene == old.scene
        assert new.ticket != old.ticket
        assert new.expires_at is not None
        assert old.expires_at is not None
        assert new.expires_at > old.expires_at
        # The image cache was warmed with the new code's url.
        warmed = ws.images.image(new, ImageSpec())
        assert warmed.cached
        assert decode_png(warmed.content) == new.url

        scanners = openids(2)
        before = scans_of_channel(engine, renewing.channel.id)
        assert stack.emulator.scan(scanners[0], ticket=old.ticket).pushes[0].delivered
        assert stack.emulator.scan(scanners[1], ticket=new.ticket).pushes[0].delivered
        assert scans_of_channel(engine, renewing.channel.id) == before + 2

        # The old code keeps its row for the channel; the expiring list shows the new one
        # only once it is near its end, and the other channel's code now.
        assert [c.id for c in ws.codes.codes_of(renewing.channel.id)] == [new.id, old.id]
        expiring = ws.lifecycle.expiring(stack.account.id, parse_duration("7d"))
        assert [(e.channel_name, e.auto_renew) for e in expiring] == [
            ("Flyer", False),
            ("Screen", True),
        ]

        stack.advance(2 * DAY)  # the Flyer's code (no renewal) has expired
        flyer = ws.codes.current_code(quiet.channel.id)
        assert flyer is not None
        assert flyer.status(ws.clock()) is CodeStatus.EXPIRED
        with pytest.raises(CodeExpiredError, match=r"expired on .* --force"):
            check_exportable(flyer, False, ws.clock())
        assert "exported anyway" in (check_exportable(flyer, True, ws.clock()) or "")
        refused = build_zip(ws.codes, ws.images, [quiet.channel], ImageSpec(), now=ws.clock())
        assert refused.files == ()
        assert refused.expired == ("Flyer",)
        forced = build_zip(
            ws.codes, ws.images, [quiet.channel], ImageSpec(), now=ws.clock(), force=True
        )
        assert forced.files == ("Flyer.png",)

    documents = _deliver(database_url, receiver, 2)
    verified = {d["type"]: d for d in documents}
    assert sorted(verified) == ["code.expiring", "code.renewed"]
    for item in receiver.snapshot():
        item.verify(hook.secret)  # signed as Standard Webhooks say (raises otherwise)
    for kind, document in verified.items():  # the documented shape, key for key
        schema = _documented(kind)
        assert sorted(document["data"]) == sorted(schema["required"]), kind
    renewed = verified["code.renewed"]["data"]
    assert renewed["channel"] == {"id": renewing.channel.id, "name": "Screen"}
    assert renewed["group"] == "lobby"
    assert renewed["code"]["id"] == old.id
    assert renewed["code"]["scene"] == old.scene
    assert renewed["new_code"]["id"] == new.id
    assert renewed["new_code"]["url"] == new.url
    expiring_doc = verified["code.expiring"]["data"]
    assert expiring_doc["channel"]["name"] == "Flyer"
    assert expiring_doc["auto_renew"] is False
    assert expiring_doc["expires_at"].endswith("Z")


def test_renewals_stop_cleanly_when_the_quota_is_used_up(engine: Engine, database_url: str) -> None:
    with lifecycle_stack(engine, database_url, daily_quota=3) as stack:
        ws = stack.ws
        made = [
            ws.channel_codes.create(stack.account.id, NewChannel(name=f"S{n}"), _temporary(3))
            for n in range(3)
        ]
        for item in made:
            ws.lifecycle.set_renewal(item.channel.id, True)
        assert ws.quotas.usage(stack.account).remaining == 0
        stack.advance(DAY + 60)  # a new China day: 3 calls; the codes are within their lead
        for n in range(2):
            ws.channel_codes.create(stack.account.id, NewChannel(name=f"P{n}"), CodeSpec())
        run = ws.lifecycle.run_due()
        assert run.renewed == [(made[0].code.id, run.renewed[0][1])]  # type: ignore[union-attr]
        assert run.refused is not None
        assert "it can do 1 today" in run.refused
        usage = ws.quotas.usage(stack.account)
        assert (usage.used, usage.remaining, usage.wxqr_used) == (3, 0, 3)


def test_lead_times_and_durations_are_checked() -> None:
    assert parse_duration("7d") == 7 * DAY
    assert parse_duration("48h") == 48 * 3600
    assert parse_duration("90m") == 5400
    for bad in ("", "7x", "-1d", "d", "1.5d"):
        with pytest.raises(InvalidInputError):
            parse_duration(bad)


def test_a_renewal_lead_is_bounded(engine: Engine, database_url: str) -> None:
    with lifecycle_stack(engine, database_url) as stack:
        channel = stack.ws.channels.create(stack.account.id, NewChannel(name="X"))
        with pytest.raises(InvalidInputError, match="lead time"):
            stack.ws.lifecycle.set_renewal(channel.id, True, 40 * DAY)
        setting = stack.ws.lifecycle.set_renewal(channel.id, True, 3600)
        assert setting.custom_lead
        assert setting.lead_seconds == 3600
        assert not stack.ws.lifecycle.set_renewal(channel.id, False).auto_renew


def test_the_serving_worker_renews_on_its_own(engine: Engine, database_url: str) -> None:
    """``wxqr serve``'s worker runs the renewal chore: no test code calls run_due."""
    with lifecycle_stack(engine, database_url, worker=True) as stack:
        ws = stack.ws
        made = ws.channel_codes.create(stack.account.id, NewChannel(name="Kiosk"), _temporary(3))
        assert made.code is not None
        ws.lifecycle.set_renewal(made.channel.id, True)
        stack.advance(DAY + 3600)
        deadline = time.monotonic() + 30
        current = ws.codes.current_code(made.channel.id)
        while current is not None and current.id == made.code.id:
            assert time.monotonic() < deadline, "the worker did not renew the code"
            time.sleep(0.2)
            current = ws.codes.current_code(made.channel.id)
        assert current is not None
        assert current.scene == made.code.scene


def test_archived_channels_are_neither_renewed_nor_announced(
    engine: Engine, database_url: str
) -> None:
    with lifecycle_stack(engine, database_url) as stack:
        ws = stack.ws
        shelved = ws.channel_codes.create(stack.account.id, NewChannel(name="Old"), _temporary(3))
        quiet = ws.channel_codes.create(stack.account.id, NewChannel(name="Gone"), _temporary(3))
        ws.lifecycle.set_renewal(shelved.channel.id, True)
        ws.channels.archive(shelved.channel.id)
        ws.channels.archive(quiet.channel.id)
        stack.advance(DAY + 3600)
        run = ws.lifecycle.run_due()
        assert run.renewed == []
        assert run.notified == []
