"""The demo data ``smscloud serve`` puts into an empty database, so ``make run`` is usable."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from smscloud.services import accounts
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

DEMO_SIGN = "云短信"
DEMO_TEMPLATE = "您的验证码是{1}，{2}分钟内有效，请勿泄露。"
CREDENTIALS_FILE = "demo-credentials.json"


def seed_demo(conn: Connection, data_dir: Path) -> dict[str, Any] | None:
    """Seed once, on a database with no tenants; returns the credentials when it did."""
    if conn.execute(select(func.count()).select_from(s.tenants)).scalar_one():
        return None
    password = accounts.new_password()
    accounts.create_operator(conn, "admin", password)
    tenant = accounts.create_tenant(conn, "Demo Co.", "enterprise", verified=True)
    tenant_password = accounts.new_password()
    accounts.create_tenant_user(conn, tenant["id"], "demo@example.com", tenant_password)
    key = accounts.create_key(conn, tenant["id"])
    app = accounts.create_app(conn, tenant["id"], "Demo app")
    accounts.grant_package(conn, tenant["id"], 10_000, package_type=0)
    now = time.time()
    sign_id = inserted_id(
        conn.execute(
            insert(s.signs).values(
                tenant_id=tenant["id"],
                name=DEMO_SIGN,
                sign_type=0,
                document_type=1,
                international=0,
                purpose=0,
                status=0,
                review_reply="通过",
                deleted=False,
                created_at=now,
                reviewed_at=now,
            )
        )
    )
    template_id = inserted_id(
        conn.execute(
            insert(s.templates).values(
                tenant_id=tenant["id"],
                name="验证码",
                content=DEMO_TEMPLATE,
                sms_type=3,
                international=0,
                remark="demo",
                status=0,
                review_reply="通过",
                deleted=False,
                created_at=now,
                reviewed_at=now,
            )
        )
    )
    creds = {
        "operator": {"username": "admin", "password": password},
        "tenant": {"id": tenant["id"], "email": "demo@example.com", "password": tenant_password},
        "secret_id": key["secret_id"],
        "secret_key": key["secret_key"],
        "sdk_app_id": app["sdk_app_id"],
        "app_key": app["app_key"],
        "sign_name": DEMO_SIGN,
        "sign_id": int(sign_id),
        "template_id": str(template_id),
        "template": DEMO_TEMPLATE,
    }
    path = data_dir / CREDENTIALS_FILE
    path.write_text(json.dumps(creds, ensure_ascii=False, indent=2) + "\n")
    path.chmod(0o600)
    return creds


def load_demo(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / CREDENTIALS_FILE
    return json.loads(path.read_text()) if path.exists() else None
