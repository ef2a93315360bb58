"""The web adapter: the FastAPI app (webhook, REST API, dashboard) over the service layer."""
