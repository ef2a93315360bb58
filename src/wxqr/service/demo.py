"""The demo's story: channels of a shop's promotion, and a few days of simulated users.

Everything goes through the real paths: codes are issued through the WeChat client (the
emulator standing in for WeChat), users scan, follow and unfollow in the emulator, which
pushes signed events to wxqr's webhook over HTTP. The emulator's clock starts ``days``
days ago and is moved forward between events, so the stats spread over those days.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wxqr.protocol import QRKind, QRRequest
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec, SceneType
from wxqr.service.replies import reply_from_input
from wxqr.service.workspace import Workspace

__all__ = ["DEMO_CHANNELS", "DemoChannel", "DemoOutcome", "SimulatedWeChat", "run_story"]


class SimulatedWeChat(Protocol):
    """What the story needs of the emulator (``wxqr.emulator.testing.RunningEmulator``)."""

    def scan(self, openid: str, *, ticket: str | None = ..., url: str | None = ...) -> object: ...

    def unsubscribe(self, openid: str, *, appid: str | None = ...) -> object: ...

    def follow(
        self, openid: str, *, appid: str | None = ..., subscribe_scene: str | None = ...
    ) -> object: ...

    def advance(self, seconds: float) -> float: ...


@dataclass(frozen=True)
class DemoChannel:
    name: str
    group: str
    weight: float  # share of the scans
    kind: QRKind = QRKind.PERMANENT
    scene_type: SceneType = SceneType.ID
    reply: str | None = None


DEMO_CHANNELS = (
    DemoChannel("Metro poster, line 2", "posters", 5, reply="Welcome from the metro!"),
    DemoChannel("Bus stop poster", "posters", 2),
    DemoChannel("Shop Nanjing Road", "shops", 4, scene_type=SceneType.STR),
    DemoChannel("Shop Huaihai Road", "shops", 3, scene_type=SceneType.STR),
    DemoChannel("Salesperson Li Wei", "sales", 2),
    DemoChannel("Spring sale flyer", "campaigns", 3, kind=QRKind.TEMPORARY),
)


@dataclass(frozen=True)
class DemoOutcome:
    channels: int
    scans: int
    unfollows: int
    refollows: int
    orphan_scans: int
    users: int


def run_story(
    ws: Workspace,
    wechat: SimulatedWeChat,
    account_id: int,
    *,
    issue_orphan: Callable[[QRRequest], str],
    scans: int = 300,
    days: int = 7,
    seed: int = 20240601,
    progress: Callable[[int, int], None] | None = None,
) -> DemoOutcome:
    """Create the demo channels, then ``scans`` scans (plus unfollows) over ``days`` days.

    ``issue_orphan`` issues a ticket straight through WeChat, bypassing wxqr, for a code
    wxqr does not know: its scans show up as orphan scans.
    """
    rng = random.Random(seed)
    tickets: list[str] = []
    weights: list[float] = []
    for spec in DEMO_CHANNELS:
        expire = 30 * 86_400 if spec.kind is QRKind.TEMPORARY else None
        made = ws.channel_codes.create(
            account_id,
            NewChannel(
                name=spec.name,
                group=spec.group,
                tags=("demo",),
                reply=reply_from_input(spec.reply),
            ),
            CodeSpec(kind=spec.kind, scene_type=spec.scene_type, expire_seconds=expire),
        )
        code = made.code
        assert code is not None
        assert code.ticket is not None
        tickets.append(code.ticket)
        weights.append(spec.weight)
    orphan_ticket = issue_orphan(QRRequest.permanent("legacy-poster-2019"))

    users = [f"demo-user-{n:04d}" for n in range(max(20, scans // 3))]
    following: set[str] = set()
    unfollowed: set[str] = set()
    counts = {"unfollows": 0, "refollows": 0, "orphans": 0}
    step = days * 86_400 * 0.97 / max(1, scans)
    total = scans
    for done in range(1, total + 1):
        wechat.advance(step * rng.uniform(0.5, 1.5))
        openid = rng.choice(users)
        if rng.random() < 0.03:
            wechat.scan(openid, ticket=orphan_ticket)
            counts["orphans"] += 1
        else:
            wechat.scan(openid, ticket=rng.choices(tickets, weights=weights)[0])
        if openid in unfollowed:
            counts["refollows"] += 1
            unfollowed.discard(openid)
        following.add(openid)
        if rng.random() < 0.08 and following:
            leaving = rng.choice(sorted(following))
            wechat.unsubscribe(leaving)
            following.discard(leaving)
            unfollowed.add(leaving)
            counts["unfollows"] += 1
        if progress is not None:
            progress(done, total)
    return DemoOutcome(
        channels=len(DEMO_CHANNELS),
        scans=scans,
        unfollows=counts["unfollows"],
        refollows=counts["refollows"],
        orphan_scans=counts["orphans"],
        users=len(users),
    )
