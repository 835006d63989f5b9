"""Everything one process runs, wired together: store, caches, services, delivery."""

from __future__ import annotations

import asyncio
import logging

from smscloud.carriers.base import Carrier
from smscloud.carriers.sandbox import SandboxCarrier
from smscloud.carriers.smpp import SmppCarrier
from smscloud.carriers.smpp.config import SmppConfig
from smscloud.carriers.smsc.config import DEFAULT_ACCOUNTS, parse_account
from smscloud.carriers.voice.base import VoiceCarrier
from smscloud.carriers.voice.simulator import SimulatedCall, VoiceSimulator
from smscloud.carriers.voice.sip_trunk import SipTrunk, SipTrunkConfig
from smscloud.carriers.voice.speech import Speech
from smscloud.clock import Clock, system_clock
from smscloud.config import Settings
from smscloud.delivery import call_records
from smscloud.delivery.callbacks.pusher import CallbackPusher
from smscloud.delivery.calls import CallWorker
from smscloud.delivery.dispatcher import Dispatcher
from smscloud.delivery.notifier import Notifier
from smscloud.delivery.task_feeder import TaskFeeder
from smscloud.notify.mail import mailer_from_settings
from smscloud.private_files import private_dir
from smscloud.services.carrier_setup import load_carriers, load_routes, load_voice_carriers
from smscloud.services.metadata.cache import Catalog
from smscloud.services.registry import Registry, VoiceRegistry
from smscloud.services.reports import Reports
from smscloud.services.sending.sms import SendService
from smscloud.services.sending.voice import VoiceService
from smscloud.services.statistics import Statistics
from smscloud.services.tasks import TaskService
from smscloud.store.database import Database
from smscloud.store.migrate import upgrade

log = logging.getLogger(__name__)
SIMULATOR_ACCOUNT = next(iter(DEFAULT_ACCOUNTS.items()))  # what ``smsc-sim`` accepts


def simulator_account(settings: Settings) -> tuple[str, str]:
    """The account the built-in simulator accepts: the one ``serve`` chose, or the default."""
    if settings.simulator_account:
        return parse_account(settings.simulator_account)
    return SIMULATOR_ACCOUNT


class Platform:
    """The services of one process; ``start`` migrates the store and starts delivery.

    ``clock`` is the one source of "now" for everything the process runs (see
    :mod:`smscloud.clock`); a test hands in its own to set the platform at any moment.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        carrier: Carrier | None = None,
        clock: Clock = system_clock,
        commit_on_loop: bool = False,
    ) -> None:
        """``commit_on_loop``: commit on the event loop (``Database``), as the worker does."""
        self.settings = settings
        private_dir(settings.data_dir)  # secrets live there: the service's user only
        self.clock = clock
        self.db = Database(
            settings.resolved_database_url,
            commit_window_ms=settings.commit_window_ms,
            commit_max_jobs=settings.commit_max_jobs,
            commit_on_loop=commit_on_loop,
        )
        self.catalog = Catalog(self.db, now=clock)
        # A carrier handed in (tests) is the only one; otherwise the operator's carriers are
        # loaded when delivery starts, and the built-in sandbox serves when there are none.
        self._fixed_carrier = carrier is not None
        self.carrier: Carrier = carrier or self._sandbox()
        self.dispatcher = Dispatcher(
            self.db,
            self.carrier,
            load_routes=load_routes,
            batch=settings.dispatch_batch,
            lease_seconds=settings.lease_seconds,
            receipt_timeout=settings.receipt_timeout,
            poll_interval=settings.dispatch_poll_ms / 1000.0,
            clock=clock,
        )
        self.callbacks = CallbackPusher(
            self.db,
            settings.tz,
            retry_s=settings.callback_retry_s,
            allowed=settings.callback_allowed_networks,
            clock=clock,
        )
        self.mailer = mailer_from_settings(
            settings.smtp_url, settings.mail_from, settings.data_dir / "outbox"
        )
        self.notifier = Notifier(self.db, self.mailer, clock=clock, tz=settings.tz)
        self.sender = SendService(
            self.db,
            self.catalog,
            settings.tz,
            clock=clock,
            on_accepted=self.dispatcher.notify,
            free_units=settings.free_monthly_units,
        )
        self.calls = CallWorker(
            self.db,
            {},
            Speech(settings.data_dir / "speech-cache"),
            clock=clock,
            lease=settings.lease_seconds,
            start_deadline=settings.voice_start_deadline_s,
            per_tenant=settings.voice_calls_per_tenant,
        )
        self.voice = VoiceService(
            self.db, self.catalog, settings.tz, clock=clock, on_accepted=self.calls.notify
        )
        self.phone_network: VoiceSimulator | None = None
        self.tasks = TaskService(self.db, self.sender, clock=clock)
        self.feeder = TaskFeeder(
            self.db,
            settings.tz,
            free_units=settings.free_monthly_units,
            on_accepted=self.dispatcher.notify,
            clock=clock,
        )
        self.registry = Registry(self.db, self.catalog, clock=clock)
        self.voice_registry = VoiceRegistry(self.db, self.catalog, settings.data_dir, clock=clock)
        self.calls.file_audio = self.voice_registry.file_audio  # sendfvoice plays uploads
        self.reports = Reports(self.db, settings.tz, clock=clock)
        self.statistics = Statistics(self.db, settings.tz)
        self.ready = False
        self._delivering = False
        self._background: set[asyncio.Future[None]] = set()

    def _sandbox(self) -> Carrier:
        return SandboxCarrier(
            delay=self.settings.simulator_delay_ms / 1000.0,
            rate=self.settings.simulator_rate,
            clock=self.clock,
        )

    def _builtin(self) -> dict[str, Carrier]:
        """The carrier used when the operator configured none."""
        if self.settings.simulator == "on":  # ``serve`` started it, with its port and account
            system_id, password = simulator_account(self.settings)
            config = SmppConfig(
                system_id=system_id,
                password=password,
                port=self.settings.simulator_port,
                binds=2,
                source_addr="106900",
            )
            return {"simulator": SmppCarrier("simulator", config)}
        return {"sandbox": self.carrier}

    async def _voice_carriers(self) -> dict[str, VoiceCarrier]:
        """The operator's voice carriers; with none, the built-in phone network's line."""
        configured = await self.db.read(load_voice_carriers)
        if configured or self.settings.voice_simulator == "off":
            return configured
        recordings = self.settings.data_dir / "voice-recordings"
        self.phone_network = VoiceSimulator(
            recordings_dir=recordings if self.settings.voice_recordings else None,
            ring_seconds=self.settings.voice_ring_ms / 1000.0,
            on_call_ended=self._heard,
        )
        await self.phone_network.start()
        trunk = SipTrunkConfig(
            name="phone-network",
            host="127.0.0.1",
            port=self.phone_network.port,
            caller="106900",
            max_calls=self.settings.voice_lines,
        )
        return {trunk.name: SipTrunk(trunk, clock=self.clock)}

    def _heard(self, call: SimulatedCall) -> None:
        """Keep where the built-in network's recording of a call is, for the console."""
        if call.recording is None:
            return
        call_id, path = call.call_id.split("@", 1)[0], str(call.recording)
        task = asyncio.ensure_future(
            self.db.write(lambda c: call_records.recorded(c, call_id, path))
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self, *, deliver: bool = True) -> None:
        upgrade(self.db.engine)
        self.db.start()
        if deliver:
            if not self._fixed_carrier:
                configured = await self.db.read(load_carriers)
                self.dispatcher.carriers = configured or self._builtin()
            await self.dispatcher.start()
            self.calls.carriers = await self._voice_carriers()
            await self.calls.start()
            await self.callbacks.start()
            await self.notifier.start()
            await self.feeder.start()
            self._delivering = True
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        if self._delivering:
            await self.feeder.stop()
            await self.notifier.stop()
            await self.callbacks.stop()
            await self.calls.stop()
            if self.phone_network is not None:
                await self.phone_network.stop()
                self.phone_network = None
            await self.dispatcher.stop()
            self._delivering = False
        await self.db.stop()
