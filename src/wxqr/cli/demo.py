"""``wxqr demo``: the whole system on this machine, with no WeChat account and no setup.

It starts the WeChat emulator and the wxqr server (uvicorn, in background threads) on a
SQLite database in a temporary folder, adds an account whose webhook is wired to the
emulator, creates a few channels, simulates a few hundred scans, follows and unfollows
over a few simulated days, then prints the dashboard's URL and login and keeps serving
until Ctrl-C (or ``--duration`` seconds; ``--no-wait`` stops at once).
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType

import typer
from rich.panel import Panel
from rich.progress import Progress

from wxqr.cli._login_example import login_example
from wxqr.cli._ws import FORMAT_OPTION, OutputFormat, console, emit_json, fail
from wxqr.emulator.testing import EmulatorAccount, running_emulator, serve_app
from wxqr.protocol import QRRequest
from wxqr.runtime import Runtime
from wxqr.service.accounts import add_account
from wxqr.service.demo import run_story
from wxqr.settings import Settings
from wxqr.web.app import create_app
from wxqr.wechat import ClientConfig, SyncWeChatClient

__all__ = ["demo"]


def _free_port(host: str, wanted: int) -> int:
    """``wanted`` if it can be bound on ``host``, else a free port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, wanted))
            return wanted
        except OSError:
            probe.bind((host, 0))
            return int(probe.getsockname()[1])


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Address the server listens on."),
    port: int = typer.Option(8000, "--port", help="Port (a free one if it is taken)."),
    scans: int = typer.Option(300, "--scans", min=10, max=20_000, help="Scans to simulate."),
    days: int = typer.Option(7, "--days", min=1, max=60, help="Simulated days."),
    password: str | None = typer.Option(
        None, "--password", help="Dashboard admin password (default: a random one)."
    ),
    duration: float | None = typer.Option(
        None, "--duration", min=0, help="Serve this many seconds, then stop."
    ),
    no_wait: bool = typer.Option(False, "--no-wait", help="Stop right after the simulation."),
    keep: bool = typer.Option(False, "--keep", help="Keep the temporary folder afterwards."),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run the emulator and wxqr with demo data; print the dashboard URL and login."""
    folder = Path(tempfile.mkdtemp(prefix="wxqr-demo-"))
    database_url = f"sqlite:///{folder / 'wxqr-demo.sqlite3'}"
    admin_password = password or secrets.token_urlsafe(9)
    account = EmulatorAccount()
    quiet = output is OutputFormat.JSON
    runtime: Runtime | None = None
    try:
        start = time.time() - days * 86_400
        with _sigterm_stops(), running_emulator(accounts=[account], start_time=start) as emu:
            settings = Settings(
                database_url=database_url,
                host=host,
                port=port,
                push_max_age_seconds=0,  # pushes carry the emulator's (past) clock
                wechat_api_base=emu.base_url,
                wechat_mp_base=emu.base_url,
            )
            runtime = Runtime.open(settings, serve=True, migrate=True)
            # Closed after the server stopped (below), or by the finally on the way out.
            acct = add_account(
                runtime.engine,
                appid=account.appid,
                token=account.token,
                app_secret=account.secret,
                name="Demo shop",
            )
            ws = runtime.workspace
            ws.admin.set_password(admin_password)
            api_key = ws.api_keys.create("demo").secret
            bound = _free_port(host, port)
            with (
                ExitStack() as stack,
                serve_app(create_app(runtime), host=host, port=bound) as base,
            ):
                emu.set_push_url(account.appid, f"{base}/wechat/{account.appid}")

                def issue_orphan(request: QRRequest) -> str:
                    config = ClientConfig(
                        appid=account.appid,
                        secret=account.secret,
                        api_base=emu.base_url,
                        mp_base=emu.base_url,
                    )
                    with SyncWeChatClient(config) as client:
                        return client.create_qrcode(request).ticket

                with Progress(console=console, transient=True, disable=quiet) as progress:
                    task = progress.add_task("simulating users", total=scans)
                    outcome = run_story(
                        ws,
                        emu,
                        acct.id,
                        issue_orphan=issue_orphan,
                        scans=scans,
                        days=days,
                        progress=lambda done, _total: progress.update(task, completed=done),
                    )
                dashboard = f"{base}/dashboard/"
                # scan-sessions: the scan-to-log-in example page, against the emulator
                login_page = stack.enter_context(login_example(base, api_key, host))
                if quiet:
                    emit_json(
                        {
                            "dashboard": dashboard,
                            "user": "admin",
                            "password": admin_password,
                            "api_key": api_key,
                            "api_docs": f"{base}/api/v1/docs",
                            "emulator": emu.base_url,
                            "database": database_url,
                            "channels": outcome.channels,
                            "scans": outcome.scans,
                            "unfollows": outcome.unfollows,
                            "orphan_scans": outcome.orphan_scans,
                            "login_page": login_page,
                        }
                    )
                else:
                    console.print(
                        Panel.fit(
                            f"Dashboard: [bold]{dashboard}[/]\n"
                            f"User:      [bold]admin[/]   Password: [bold]{admin_password}[/]\n"
                            f"API docs:  {base}/api/v1/docs   API key: {api_key}\n"
                            f"Emulator:  {emu.base_url}\n"
                            + (f"Login page (scan sessions): {login_page}\n" if login_page else "")
                            + f"Database:  {database_url}\n\n"
                            f"{outcome.channels} channels, {outcome.scans} scans by "
                            f"{outcome.users} users over {days} days, {outcome.unfollows} "
                            f"unfollows, {outcome.orphan_scans} orphan scans.",
                            title="wxqr demo",
                        )
                    )
                _wait(no_wait, duration, quiet)
    except OSError as exc:
        fail(f"the demo could not start: {exc}")
    finally:
        if runtime is not None:
            runtime.close()
        if keep:
            if not quiet:
                console.print(f"kept {folder}", highlight=False)
        else:
            shutil.rmtree(folder, ignore_errors=True)


class _Stopped(KeyboardInterrupt):
    """SIGTERM, turned into what Ctrl-C raises, so the demo stops the same way."""


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """Make SIGTERM stop the demo like Ctrl-C: servers stopped, temporary folder removed
    (Python's default for SIGTERM ends the process without running ``finally``)."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait(no_wait: bool, duration: float | None, quiet: bool) -> None:
    if no_wait:
        return
    deadline = None if duration is None else time.monotonic() + duration
    try:  # from the announcement on: a stop right after it is a stop, not an error
        if not quiet:
            console.print("Serving. Press Ctrl-C to stop." if duration is None else "Serving.")
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2 if deadline is None else min(0.2, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        if not quiet:
            console.print("stopping")
