"""A login page that signs visitors in by scanning a WeChat code (docs/scan-sessions.md)."""
