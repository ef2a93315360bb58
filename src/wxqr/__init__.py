"""wxqr: WeChat Official Account parametric QR codes and the channel analytics built on them.

The names here are the stable public API; everything else lives in subpackages
(``wxqr.protocol``, ``wxqr.wechat``, ``wxqr.emulator``, ``wxqr.store``, ``wxqr.service``).
"""

from wxqr._version import __version__
from wxqr.protocol import (
    AccountKeys,
    Article,
    EncryptMode,
    ImageReply,
    MalformedPush,
    NewsReply,
    OtherEvent,
    OtherMessage,
    ProtocolError,
    Push,
    QRKind,
    QRRequest,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    TextMessage,
    TextReply,
    UnsubscribeEvent,
    open_push,
    parse_push,
    show_url,
)

__all__ = [
    "AccountKeys",
    "Article",
    "EncryptMode",
    "ImageReply",
    "MalformedPush",
    "NewsReply",
    "OtherEvent",
    "OtherMessage",
    "ProtocolError",
    "Push",
    "QRKind",
    "QRRequest",
    "ScanEvent",
    "SubscribeEvent",
    "SubscribeScanEvent",
    "TextMessage",
    "TextReply",
    "UnsubscribeEvent",
    "__version__",
    "open_push",
    "parse_push",
    "show_url",
]
