"""The simulated users: scanning, following, unfollowing and writing to an account.

Each action changes the emulator's state first (as WeChat does, whatever the account's
server answers), then pushes the event to the account's push URL, if it has one.
"""

from __future__ import annotations

import ssl
import time

import httpx

from wxqr.protocol import PushQuery

from .codes import QRCode
from .config import AccountConfig
from .delivery import deliver
from .events import message_xml, scan_xml, subscribe_xml, unsubscribe_xml
from .results import PushRecord, ScanResult
from .state import EmulatorState
from .users import SCENE_QR_CODE, SCENE_SEARCH

__all__ = ["Simulator"]


class Simulator:
    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            ca_file = self._state.config.push_ca_file
            verify: ssl.SSLContext | bool = (
                ssl.create_default_context(cafile=ca_file) if ca_file else True
            )
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False, verify=verify)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _push(
        self, account: AccountConfig, openid: str, kind: str, xml: str, create_time: int
    ) -> PushRecord:
        settings = self._state.settings
        url = account.push_url
        if not url:
            record = PushRecord(
                account.appid, openid, kind, create_time, xml, PushQuery("", "", ""), "", None
            )
        else:
            done = await deliver(
                self.client,
                account,
                url,
                xml,
                openid=openid,
                timestamp=_wall_time(),
                wait=settings.push_timeout,
                tries=settings.push_tries,
            )
            record = PushRecord(
                account.appid,
                openid,
                kind,
                create_time,
                xml,
                done.query,
                done.body,
                url,
                done.attempts,
                done.delivered,
                done.reply,
                done.error,
            )
        self._state.pushes.append(record)
        return record

    def find_code(self, ticket: str | None, url: str | None) -> QRCode | None:
        codes = self._state.codes
        if ticket:
            return codes.by_ticket(ticket)
        if url:
            return codes.by_url(url)
        return None

    async def scan(
        self, openid: str, *, ticket: str | None = None, url: str | None = None
    ) -> ScanResult:
        """A user scans a code (by ticket or by its url). Unknown and expired codes push
        nothing, as in WeChat."""
        state = self._state
        code = self.find_code(ticket, url)
        if code is None or code.appid not in state.accounts:
            return ScanResult("unknown_code", openid)
        now = state.clock.now_int()
        if code.expired(now):
            return ScanResult("expired_code", openid, code.appid, code.scene)
        account = state.accounts[code.appid]
        shown = ticket if ticket else code.tickets[-1]
        if state.followers.is_following(code.appid, openid):
            xml = scan_xml(account.original_id, openid, now, scene=code.scene, ticket=shown)
            push = await self._push(account, openid, "SCAN", xml, now)
            return ScanResult("scan", openid, code.appid, code.scene, (push,))
        state.followers.subscribe(
            code.appid, openid, now, SCENE_QR_CODE, code.scene_id, code.scene_str
        )
        state.dirty = True
        xml = subscribe_xml(account.original_id, openid, now, scene=code.scene, ticket=shown)
        push = await self._push(account, openid, "subscribe", xml, now)
        return ScanResult("subscribe", openid, code.appid, code.scene, (push,))

    async def follow(self, appid: str | None, openid: str, scene: str = SCENE_SEARCH) -> ScanResult:
        """A user follows without a code (search, profile card…)."""
        state = self._state
        account = state.account(appid)
        if state.followers.is_following(account.appid, openid):
            return ScanResult("already_following", openid, account.appid)
        now = state.clock.now_int()
        state.followers.subscribe(account.appid, openid, now, scene)
        state.dirty = True
        xml = subscribe_xml(account.original_id, openid, now)
        push = await self._push(account, openid, "subscribe", xml, now)
        return ScanResult("follow", openid, account.appid, None, (push,))

    async def unsubscribe(self, appid: str | None, openid: str) -> ScanResult:
        state = self._state
        account = state.account(appid)
        now = state.clock.now_int()
        if state.followers.unsubscribe(account.appid, openid, now) is None:
            return ScanResult("not_following", openid, account.appid)
        state.dirty = True
        xml = unsubscribe_xml(account.original_id, openid, now)
        push = await self._push(account, openid, "unsubscribe", xml, now)
        return ScanResult("unsubscribe", openid, account.appid, None, (push,))

    async def message(self, appid: str | None, openid: str, content: str) -> ScanResult:
        """A follower sends a text message."""
        state = self._state
        account = state.account(appid)
        if not state.followers.is_following(account.appid, openid):
            return ScanResult("not_following", openid, account.appid)
        now = state.clock.now_int()
        msg_id = state.new_msg_id()
        state.dirty = True
        xml = message_xml(account.original_id, openid, now, content=content, msg_id=msg_id)
        push = await self._push(account, openid, "text", xml, now)
        return ScanResult("message", openid, account.appid, None, (push,))


def _wall_time() -> int:
    """The signature timestamp: real time, so servers' freshness checks hold even when
    the emulator's clock was moved forward (CreateTime follows the emulator's clock)."""
    return int(time.time())
