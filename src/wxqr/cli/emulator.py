"""``wxqr emulator``: run the offline WeChat platform on a local port."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from wxqr.emulator import AccountConfig, EmulatorConfig, create_emulator_app
from wxqr.emulator.config import DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_TOKEN
from wxqr.protocol import EncryptMode, ProtocolError


def build_config(
    *,
    appid: str,
    secret: str,
    token: str,
    aes_key: str | None,
    mode: EncryptMode,
    push_url: str | None,
    original_id: str,
    state: str | None,
    token_expires_in: int,
    token_overlap: int,
    permanent_limit: int,
    daily_quota: int | None,
    push_timeout: float,
) -> EmulatorConfig:
    account = AccountConfig(
        appid=appid,
        secret=secret,
        token=token,
        aes_key=aes_key,
        mode=mode,
        push_url=push_url,
        original_id=original_id,
    )
    return EmulatorConfig(
        accounts=(account,),
        token_expires_in=token_expires_in,
        token_overlap=token_overlap,
        permanent_limit=permanent_limit,
        daily_quota=daily_quota,
        push_timeout=push_timeout,
        state_path=state,
    )


def banner(base_url: str, config: EmulatorConfig) -> str:
    """What the command prints: where it listens, what it accepts, how to use it."""
    lines = [f"wxqr emulator: an offline WeChat platform at {base_url}", ""]
    for account in config.accounts:
        lines += [
            f"  appid        {account.appid}",
            f"  secret       {account.secret}",
            f"  token        {account.token}",
            f"  mode         {account.mode.value}",
            f"  aes key      {account.aes_key or '-'}",
            f"  original id  {account.original_id}",
            f"  push url     {account.push_url or '- (set it: POST /_emulator/accounts/APPID)'}",
            "",
        ]
    lines += [
        f"  state        {config.state_path or 'in memory (lost on exit)'}",
        "",
        "Point a client at it:",
        f"  wxqr:     WXQR_WECHAT_API_BASE={base_url} WXQR_WECHAT_MP_BASE={base_url}",
        f"  wechatpy: API_BASE_URL = '{base_url}/cgi-bin/' (and token/showqrcode URLs)",
        "  others:   replace https://api.weixin.qq.com and https://mp.weixin.qq.com",
        "",
        f"Simulate a user: curl -X POST {base_url}/_emulator/scan "
        '-d \'{"openid": "o1", "url": "http://weixin.qq.com/q/..."}\'',
        "Docs: docs/emulator.md. Stop with Ctrl-C.",
    ]
    return "\n".join(lines)


def emulator(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8081, "--port", help="Port to listen on."),
    appid: str = typer.Option(DEFAULT_APPID, "--appid", help="The account's appid."),
    secret: str = typer.Option(DEFAULT_SECRET, "--secret", help="The AppSecret it accepts."),
    token: str = typer.Option(DEFAULT_TOKEN, "--token", help="Token that signs pushes."),
    aes_key: str | None = typer.Option(
        None, "--aes-key", help="EncodingAESKey (43 characters) for compatible/safe mode."
    ),
    mode: Annotated[
        EncryptMode, typer.Option("--mode", help="Push encryption.")
    ] = EncryptMode.PLAIN,
    push_url: str | None = typer.Option(None, "--push-url", help="Where pushes go."),
    original_id: str = typer.Option("", "--original-id", help="The account's gh_ id."),
    state: str | None = typer.Option(
        None, "--state", help="Keep state across restarts in FILE (.json or SQLite)."
    ),
    token_expires_in: int = typer.Option(7200, "--token-expires-in", min=1),
    token_overlap: int = typer.Option(300, "--token-overlap", min=0),
    permanent_limit: int = typer.Option(100_000, "--permanent-limit", min=0),
    daily_quota: int | None = typer.Option(None, "--daily-quota", min=0),
    push_timeout: float = typer.Option(5.0, "--push-timeout", min=0.001),
    log_level: str = typer.Option("warning", "--log-level", help="Server log level."),
) -> None:
    """Run an offline WeChat platform (API + simulated users) for tests and demos."""
    try:
        config = build_config(
            appid=appid,
            secret=secret,
            token=token,
            aes_key=aes_key,
            mode=mode,
            push_url=push_url,
            original_id=original_id,
            state=state,
            token_expires_in=token_expires_in,
            token_overlap=token_overlap,
            permanent_limit=permanent_limit,
            daily_quota=daily_quota,
            push_timeout=push_timeout,
        )
        app = create_emulator_app(config)
    except (ValueError, ProtocolError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    shown_host = f"[{host}]" if ":" in host else host
    typer.echo(banner(f"http://{shown_host}:{port}", config))
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower(), access_log=False)
