"""The use case "create a channel with its first code", all or nothing.

The REST API (``POST /channels`` with ``code``), the CLI (``wxqr channel create``), the
dashboard's new-channel form and the bulk CSV import all create a channel and ask WeChat
for its first code; if WeChat refuses (or cannot be reached), the channel is discarded,
so a failed request leaves nothing behind. That rule lives here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from wxqr.service.channels import Channel, ChannelService, NewChannel
from wxqr.service.codes import Code, CodeService, CodeSpec

__all__ = ["ChannelCodes", "ChannelWithCode"]


@dataclass(frozen=True, slots=True)
class ChannelWithCode:
    """A channel just created and its first code (``None`` when none was asked for)."""

    channel: Channel
    code: Code | None


class ChannelCodes:
    """Creates channels with their first code over the channel and code services."""

    def __init__(self, channels: ChannelService, codes: CodeService) -> None:
        self._channels = channels
        self._codes = codes

    def create(
        self, account_id: int, channel: NewChannel, code: CodeSpec | None = None
    ) -> ChannelWithCode:
        """Create ``channel`` in the account and issue its ``code`` (if given); when
        issuing fails for any reason, the new channel is discarded and the error raised
        (an :class:`~wxqr.service.errors.UpstreamError` when WeChat refused or could not
        be reached)."""
        created = self._channels.create(account_id, channel)
        if code is None:
            return ChannelWithCode(created, None)
        try:
            issued = self._codes.issue(created.id, code)
        except BaseException:
            self._channels.discard_unused(created.id)
            raise
        return ChannelWithCode(created, issued)
