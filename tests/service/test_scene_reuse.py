"""A channel's temporary scene may be issued again once its code expired (issue 16);
scan sessions' scene namespace is closed to channel codes."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from wxqr.protocol import QRKind
from wxqr.service.accounts import Account
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec, SceneType
from wxqr.service.errors import ConflictError, InvalidInputError
from wxqr.service.workspace import Workspace
from wxqr.store.tables import scenes

WS = tuple[Workspace, Account]


def _expire(workspace: Workspace, code_id: int) -> None:
    with workspace.engine.begin() as conn:
        conn.execute(
            update(scenes).where(scenes.c.id == code_id).values(expires_at=scenes.c.created_at - 1)
        )


@pytest.mark.parametrize("scene", ["promo-spring", 987654])
def test_a_temporary_scene_is_issued_again_after_its_code_expired(ws: WS, scene: object) -> None:
    workspace, account = ws
    channel = workspace.channels.create(account.id, NewChannel(name=f"reuse-{scene}")).id
    scene_type = SceneType.STR if isinstance(scene, str) else SceneType.ID
    spec = CodeSpec(kind=QRKind.TEMPORARY, scene_type=scene_type, scene=scene, expire_seconds=3600)
    first = workspace.codes.issue(channel, spec)
    with pytest.raises(ConflictError, match="already used"):
        workspace.codes.issue(channel, spec)  # still valid: refused
    _expire(workspace, first.id)
    second = workspace.codes.issue(channel, spec)
    assert second.id != first.id
    assert str(second.scene_value) == str(scene)
    old = workspace.codes.get(first.id)
    assert old.scene == f"~{first.id}~{scene}"  # the old code keeps its row and events
    assert workspace.codes.current_code(channel) is not None
    assert workspace.codes.current_code(channel).id == second.id  # type: ignore[union-attr]


def test_a_permanent_scene_is_never_issued_again(ws: WS) -> None:
    workspace, account = ws
    channel = workspace.channels.create(account.id, NewChannel(name="perm")).id
    spec = CodeSpec(kind=QRKind.PERMANENT, scene_type=SceneType.STR, scene="shop-door")
    workspace.codes.issue(channel, spec)
    with pytest.raises(ConflictError, match="already used"):
        workspace.codes.issue(channel, spec)


def test_channel_codes_may_not_use_the_session_namespace(ws: WS) -> None:
    workspace, account = ws
    channel = workspace.channels.create(account.id, NewChannel(name="squatter")).id
    spec = CodeSpec(kind=QRKind.TEMPORARY, scene_type=SceneType.STR, scene="wxqs_mine")
    with pytest.raises(InvalidInputError, match="reserved for scan sessions"):
        workspace.codes.issue(channel, spec)
