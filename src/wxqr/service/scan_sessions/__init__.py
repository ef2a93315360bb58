"""Scan sessions: a temporary code per login, binding or order (docs/scan-sessions.md)."""

from ._model import (
    FINAL_STATUSES,
    Binding,
    CreatedSession,
    NewScanSession,
    ScanSession,
    SessionStatus,
)
from ._service import ScanSessionService
from ._watch import SessionWatcher

__all__ = [
    "FINAL_STATUSES",
    "Binding",
    "CreatedSession",
    "NewScanSession",
    "ScanSession",
    "ScanSessionService",
    "SessionStatus",
    "SessionWatcher",
]
