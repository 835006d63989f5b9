"""One typed settings object, read from ``SMSCLOUD_*`` environment variables.

Precedence: explicit keyword arguments to :func:`load_settings` > environment > defaults.
Every knob is listed in ``docs/configuration.md`` with its default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from smscloud.domain.addresses import NO_NETWORKS, AllowedNetworks

PREFIX = "SMSCLOUD_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration shared by every ``smscloud`` command."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite file ``<data_dir>/smscloud.db``
    timezone: str = "Asia/Shanghai"  # natural days (Tencent frequency limits), marketing hours
    timestamp_skew: int = 300  # seconds a signed request may be off (AuthFailure.SignatureExpire)
    # Delivery worker.
    dispatch_batch: int = 500
    lease_seconds: int = 30
    dispatch_poll_ms: int = 20  # how often an idle worker looks for queued messages
    # ``serve`` runs delivery in a child process (``process``: both cores) or in its own event
    # loop (``inline``: one process, as the tests' in-process servers do).
    delivery: str = "process"
    receipt_timeout: int = 72 * 3600  # a message with no receipt after this ends UNKNOWN
    # Callbacks: the first retry waits this long, later ones 6x, 24x, 120x, 360x longer.
    callback_retry_s: float = 5.0
    # Callbacks never reach loopback, private, link-local, multicast or reserved addresses
    # (a tenant chooses the URL; the platform connects from inside the operator's network).
    # A private deployment whose receivers live on such a network re-opens exactly that one:
    # comma-separated networks in CIDR form, e.g. ``10.20.0.0/16,fd00:1::/64``.
    callback_allowed_networks: AllowedNetworks = NO_NETWORKS
    # The built-in carrier. ``serve`` starts the SMPP simulator (``smscloud smsc-sim``) and
    # reaches it over loopback like any carrier: ``auto`` when no carrier is configured, ``on``
    # always. ``off``, and any process ``serve`` did not plan, uses the in-process sandbox,
    # which answers the same magic numbers without SMPP.
    simulator: str = "auto"
    # Where ``serve`` opens the simulator's port on 127.0.0.1. 0: a free port, so it never
    # meets another SMSC; a port given here that is taken stops ``serve`` with a message.
    simulator_port: int = 0
    # system_id:password the simulator accepts and the worker binds with. Empty: ``serve``
    # uses the data directory's own, made at random on first start (``smsc-sim.account``),
    # and hands it to both (no other process can bind to its simulator, nor pass for it); a
    # worker or simulator started alone uses smscloud:password.
    simulator_account: str = ""
    simulator_delay_ms: int = 200  # from submit to delivery receipt
    simulator_rate: int = 0  # submits per second, 0 = unlimited
    # Group commit: how long the writer waits to gather more work into one transaction.
    commit_window_ms: float = 1.0
    commit_max_jobs: int = 256
    # Email: empty writes every mail to ``<data_dir>/outbox`` as .eml files (no server needed);
    # smtp://user:pass@host:587?starttls=1 or smtps://user:pass@host sends through SMTP.
    smtp_url: str = ""
    mail_from: str = "smscloud <noreply@localhost>"
    # Console log-ins: password checks that may fail per account and per client address in
    # a window, after which both are refused until the window ends (counted in the database,
    # so shared by every process). Guessing stays slow; a typo costs nobody a lock-out.
    login_window_minutes: int = 15
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20  # an office behind one NAT address has many users
    # Console sessions end after this long without a request, and this long after log-in
    # whatever the use (a stolen cookie does not live for ever).
    session_idle_minutes: int = 120
    session_max_hours: int = 12
    # A bulk task of at least this many numbers is confirmed only once the tenant has typed its
    # number count: a wrong list or a slip of the mouse is caught before thousands are sent
    # (0: never asked).
    task_confirm_threshold: int = 1000
    # Voice. With no voice carrier configured (a carrier of kind ``sip``), the delivery worker
    # starts the built-in phone network on a free loopback port and calls through it:
    # ``auto``; ``off`` never (voice calls then wait for a carrier).
    voice_simulator: str = "auto"
    voice_recordings: bool = True  # the built-in network keeps what it heard as WAV files
    voice_lines: int = 100  # calls at once through the built-in network
    voice_ring_ms: int = 1000  # how long the built-in network's phones ring
    voice_start_deadline_s: int = 300  # a call not started this long after acceptance fails
    voice_calls_per_tenant: int = 20  # live calls of one tenant, across every worker
    free_monthly_units: int = 100  # the free allowance of domestic SMS every calendar month
    log_level: str = "info"
    demo_seed: bool = True  # ``serve`` seeds the demo operator and tenant on an empty database
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL, defaulting to the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'smscloud.db').resolve()}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _cast(value: str, annotation: Any) -> Any:
    kind = str(annotation)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "Path":
        return Path(value)
    if kind == "AllowedNetworks":
        return AllowedNetworks.parse(value)
    return value


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from ``SMSCLOUD_*`` variables, then apply keyword overrides."""
    source = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = PREFIX + f.name.upper()
        if f.name != "extra" and key in source:
            try:
                values[f.name] = _cast(source[key], f.type)
            except ValueError as exc:
                raise ValueError(f"{key}={source[key]!r}: {exc}") from None
    settings = replace(Settings(), **values)
    return replace(settings, **overrides) if overrides else settings
