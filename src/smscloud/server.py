"""``smscloud serve``: the whole platform in one process, on uvicorn."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from smscloud.api.app import create_app
from smscloud.config import Settings
from smscloud.platform import Platform
from smscloud.seed import load_demo, seed_demo
from smscloud.store.migrate import upgrade

log = logging.getLogger(__name__)


def banner(settings: Settings, creds: dict[str, object] | None) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "smscloud is running",
        f'  API 3.0 endpoint : {base}/   (Tencent SDK: HttpProfile(endpoint="{settings.host}:'
        f'{settings.port}", protocol="http"))',
        f"  health           : {base}/healthz",
        f"  metrics          : {base}/metrics",
        f"  database         : {settings.resolved_database_url}",
    ]
    if creds:
        lines += [
            "  demo credentials (also in data dir, demo-credentials.json):",
            f"    SecretId   {creds['secret_id']}",
            f"    SecretKey  {creds['secret_key']}",
            f"    SdkAppId   {creds['sdk_app_id']}   AppKey {creds['app_key']}",
            f"    SignName   {creds['sign_name']}   TemplateId {creds['template_id']}"
            f"  ({creds['template']})",
        ]
        op = creds.get("operator")
        if isinstance(op, dict):
            lines.append(f"    operator   {op['username']} / {op['password']}")
    lines.append("")
    return "\n".join(lines)


async def serve(settings: Settings) -> int:
    platform = Platform(settings)
    upgrade(platform.db.engine)
    if settings.demo_seed:
        with platform.db.connect() as conn:
            seed_demo(conn, settings.data_dir)
    app = create_app(platform)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
            await asyncio.sleep(0.05)
        print(banner(settings, load_demo(settings.data_dir)), flush=True)

    task = asyncio.create_task(announce())
    await server.serve()
    task.cancel()
    return 0
