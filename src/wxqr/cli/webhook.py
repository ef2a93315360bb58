"""``wxqr webhook``: outbound webhook endpoints, their deliveries, retries and replays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from wxqr.cli._ws import FORMAT_OPTION, OutputFormat, console, emit_json, open_workspace
from wxqr.service.errors import InvalidInputError
from wxqr.service.webhooks import (
    SUBSCRIBABLE_EVENT_TYPES,
    CreatedEndpoint,
    Delivery,
    DeliveryStats,
    DeliveryStatus,
    Endpoint,
    WebhookService,
)
from wxqr.service.workspace import Workspace

__all__ = ["app", "delivery_dict", "endpoint_dict", "stats_dict"]

app = typer.Typer(help="Outbound webhooks: endpoints and deliveries.", no_args_is_help=True)

_EVENTS_HELP = f"Event types, comma-separated: {', '.join(SUBSCRIBABLE_EVENT_TYPES)}."


def _service(ws: Workspace) -> WebhookService:
    return ws.webhooks


def _events(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _time_s(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _time_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def endpoint_dict(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.event_types),
        "account": endpoint.account,
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": _time_s(endpoint.failing_since),
        "rotating_until": _time_s(endpoint.rotating_until),
        "created_at": _time_s(endpoint.created_at),
    }


def delivery_dict(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "type": delivery.event_type,
        "message_id": delivery.message_id,
        "openid": delivery.openid,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": _time_ms(delivery.next_attempt_ms),
        "created_at": _time_ms(delivery.created_ms),
        "delivered_at": _time_ms(delivery.delivered_ms),
        "lag_ms": delivery.lag_ms,
    }


def stats_dict(stats: DeliveryStats) -> dict[str, Any]:
    return {
        "pending": stats.pending,
        "delivered": stats.delivered,
        "failed": stats.failed,
        "oldest_pending_ms": stats.oldest_pending_ms,
        "lag_p50_ms": stats.lag_p50_ms,
        "lag_p99_ms": stats.lag_p99_ms,
    }


def _print_endpoint(endpoint: Endpoint) -> None:
    state = "[green]enabled[/]" if endpoint.enabled else "[red]disabled[/]"
    if endpoint.disabled_reason:
        state += f" ({endpoint.disabled_reason})"
    console.print(f"webhook [bold]{endpoint.id}[/] {endpoint.url} — {state}", highlight=False)
    console.print(f"  events: {', '.join(endpoint.event_types)}", highlight=False)
    console.print(f"  account: {endpoint.account or 'every account'}", highlight=False)
    if endpoint.description:
        console.print(f"  description: {endpoint.description}", highlight=False)
    if endpoint.failing_since:
        console.print(f"  failing since {_time_s(endpoint.failing_since)}", highlight=False)
    if endpoint.rotating_until:
        console.print(
            f"  previous secret signs too until {_time_s(endpoint.rotating_until)}",
            highlight=False,
        )


def _show_secret(made: CreatedEndpoint, output: OutputFormat, what: str) -> None:
    if output is OutputFormat.JSON:
        emit_json({**endpoint_dict(made.endpoint), "secret": made.secret})
        return
    _print_endpoint(made.endpoint)
    console.print(f"{what} It is shown only this once:")
    typer.echo(made.secret)


@app.command("add")
def add_command(
    url: str = typer.Argument(..., help="https URL of the receiver."),
    events: str = typer.Option("scan", "--events", "-e", help=_EVENTS_HELP),
    account: str | None = typer.Option(None, "--account", "-a", help="Only this appid."),
    description: str | None = typer.Option(None, "--description", "-d"),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Add an endpoint; prints its signing secret once."""
    with open_workspace() as ws:
        made = _service(ws).create(url, _events(events), account=account, description=description)
    _show_secret(made, output, "Signing secret (verify the webhook-signature header with it).")


@app.command("list")
def list_command(output: OutputFormat = FORMAT_OPTION) -> None:
    """List the endpoints."""
    with open_workspace() as ws:
        found = _service(ws).list_endpoints()
    if output is OutputFormat.JSON:
        emit_json([endpoint_dict(e) for e in found])
        return
    table = Table("id", "url", "events", "account", "state")
    for e in found:
        state = (
            "enabled"
            if e.enabled
            else f"disabled{f' ({e.disabled_reason})' if e.disabled_reason else ''}"
        )
        table.add_row(str(e.id), e.url, ", ".join(e.event_types), e.account or "all", state)
    console.print(table)


@app.command("show")
def show_command(
    webhook_id: int = typer.Argument(...), output: OutputFormat = FORMAT_OPTION
) -> None:
    """One endpoint and its delivery counts and lag."""
    with open_workspace() as ws:
        service = _service(ws)
        endpoint = service.get(webhook_id)
        stats = service.stats(webhook_id)
    if output is OutputFormat.JSON:
        emit_json({**endpoint_dict(endpoint), "deliveries": stats_dict(stats)})
        return
    _print_endpoint(endpoint)
    _print_stats(stats)


def _print_stats(stats: DeliveryStats) -> None:
    def ms(value: int | None) -> str:
        return "—" if value is None else f"{value / 1000:.2f} s"

    console.print(
        f"  deliveries: {stats.pending} pending, {stats.delivered} delivered, "
        f"{stats.failed} failed; oldest pending {ms(stats.oldest_pending_ms)}; "
        f"lag p50 {ms(stats.lag_p50_ms)}, p99 {ms(stats.lag_p99_ms)}",
        highlight=False,
    )


@app.command("update")
def update_command(
    webhook_id: int = typer.Argument(...),
    url: str | None = typer.Option(None, "--url"),
    events: str | None = typer.Option(None, "--events", "-e", help=_EVENTS_HELP),
    enable: bool | None = typer.Option(None, "--enable/--disable", help="Turn deliveries on/off."),
    description: str | None = typer.Option(None, "--description", "-d"),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Change an endpoint's URL, events, description, or enable/disable it."""
    with open_workspace() as ws:
        endpoint = _service(ws).update(
            webhook_id,
            url=url,
            event_types=_events(events) if events is not None else None,
            enabled=enable,
            description=description,
        )
    if output is OutputFormat.JSON:
        emit_json(endpoint_dict(endpoint))
    else:
        _print_endpoint(endpoint)


@app.command("rotate-secret")
def rotate_command(
    webhook_id: int = typer.Argument(...), output: OutputFormat = FORMAT_OPTION
) -> None:
    """A new signing secret; the previous one keeps signing too for 24 hours."""
    with open_workspace() as ws:
        made = _service(ws).rotate_secret(webhook_id)
    _show_secret(made, output, "New signing secret (the old one signs too for 24 h).")


@app.command("remove")
def remove_command(
    webhook_id: int = typer.Argument(...), output: OutputFormat = FORMAT_OPTION
) -> None:
    """Remove an endpoint and its deliveries."""
    with open_workspace() as ws:
        endpoint = _service(ws).remove(webhook_id)
    if output is OutputFormat.JSON:
        emit_json(endpoint_dict(endpoint))
    else:
        console.print(f"removed webhook {endpoint.id} ({endpoint.url})", highlight=False)


@app.command("test")
def ping_command(
    webhook_id: int = typer.Argument(...), output: OutputFormat = FORMAT_OPTION
) -> None:
    """Queue a ping delivery (sent by `wxqr serve`'s worker)."""
    with open_workspace() as ws:
        delivery = _service(ws).send_test(webhook_id)
    if output is OutputFormat.JSON:
        emit_json(delivery_dict(delivery))
    else:
        console.print(f"ping queued as delivery {delivery.id} ({delivery.message_id})")


@app.command("deliveries")
def deliveries_command(
    webhook_id: int = typer.Argument(...),
    status: str | None = typer.Option(None, "--status", "-s", help="pending, delivered or failed."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=500),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Recent deliveries (newest first) with the endpoint's lag."""
    with open_workspace() as ws:
        service = _service(ws)
        try:
            chosen = DeliveryStatus(status) if status else None
        except ValueError:
            raise InvalidInputError("--status is pending, delivered or failed") from None
        found = service.deliveries(webhook_id, status=chosen, limit=limit)
        stats = service.stats(webhook_id)
    if output is OutputFormat.JSON:
        emit_json({"items": [delivery_dict(d) for d in found], "stats": stats_dict(stats)})
        return
    table = Table("id", "type", "event", "status", "attempts", "last", "next / delivered", "lag")
    for d in found:
        last = str(d.last_status_code or "") or (d.last_error or "")[:40]
        when = _time_ms(d.delivered_ms) or _time_ms(d.next_attempt_ms) or "—"
        lag = "—" if d.lag_ms is None else f"{d.lag_ms} ms"
        table.add_row(
            str(d.id),
            d.event_type,
            str(d.event_id or "—"),
            d.status.value,
            str(d.attempts),
            last,
            when,
            lag,
        )
    console.print(table)
    _print_stats(stats)


@app.command("retry")
def retry_command(
    webhook_id: int = typer.Argument(...),
    delivery_id: int = typer.Argument(...),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Send a delivery again now."""
    with open_workspace() as ws:
        delivery = _service(ws).retry(webhook_id, delivery_id)
    if output is OutputFormat.JSON:
        emit_json(delivery_dict(delivery))
    else:
        console.print(f"delivery {delivery.id} queued again")


def _parse_time(raw: str, option: str) -> int:
    text = raw.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{option} must be Unix seconds or an ISO 8601 time, got {raw!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@app.command("replay")
def replay_command(
    webhook_id: int = typer.Argument(...),
    since: str = typer.Option(..., "--since", help="Unix seconds or ISO 8601 (event time)."),
    until: str | None = typer.Option(None, "--until", help="Unix seconds or ISO 8601 (now)."),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Send the events of a time range again."""
    with open_workspace() as ws:
        start = _parse_time(since, "--since")
        end = _parse_time(until, "--until") if until is not None else None
        queued = _service(ws).replay(webhook_id, start, end)
    if output is OutputFormat.JSON:
        emit_json({"queued": queued, "since": _time_s(start), "until": _time_s(end)})
    else:
        console.print(f"{queued} deliveries queued")
