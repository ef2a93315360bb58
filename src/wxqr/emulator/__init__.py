"""An offline WeChat platform: the API endpoints wxqr (or any SDK) calls, and simulated
users whose scans, follows and messages are pushed — signed and encrypted like WeChat's —
to the account's server.

Run it with ``wxqr emulator``; in tests use :mod:`wxqr.emulator.testing`.
"""

from .app import create_emulator_app
from .config import (
    DEFAULT_APPID,
    DEFAULT_SECRET,
    DEFAULT_TOKEN,
    AccountConfig,
    EmulatorConfig,
    FaultConfig,
)
from .results import SERVICE_UNAVAILABLE, Attempt, PushRecord, ScanResult
from .state import EmulatorState
from .tickets import TicketInfo, decode_ticket

__all__ = [
    "DEFAULT_APPID",
    "DEFAULT_SECRET",
    "DEFAULT_TOKEN",
    "SERVICE_UNAVAILABLE",
    "AccountConfig",
    "Attempt",
    "EmulatorConfig",
    "EmulatorState",
    "FaultConfig",
    "PushRecord",
    "ScanResult",
    "TicketInfo",
    "create_emulator_app",
    "decode_ticket",
]
