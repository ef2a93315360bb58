"""The service layer: the one place the web and CLI adapters go through to reach the store."""
