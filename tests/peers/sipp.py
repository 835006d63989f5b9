"""An independent answering phone for the voice tests: Debian's sipp (``sip-tester`` 3.6.1) as UAS.

A ``SippPhone`` runs one scenario of tests/peers/sipp/ on 127.0.0.1 and exits by itself after
``calls`` calls (``-m``) or at its global ``-timeout``; leaving the ``with`` block (or
``close()``) always ends the process. Modes, one scenario file each:

- ``answer``: 100, 180 (rings ``ring_seconds``), 200 with SDP (PCMU 0, PCMA 8,
  telephone-event 101), ACK (retransmitted ACKs absorbed), then waits for the caller's BYE.
- ``hangup``: as ``answer``, but the phone sends BYE itself ``hang_up_after`` seconds after the
  ACK unless the caller hung up first.
- ``busy``: 486 Busy Here; ``not_found``: 404 Not Found (each ACKed by the caller).
- ``no_answer``: 180 and rings until the caller's CANCEL (200), then 487 for the INVITE.
- ``challenge``: 401 with a digest challenge (realm, qop=auth, MD5); the INVITE sent again is
  checked with sipp's ``verifyauth`` and answered as in ``answer`` (403 if it fails).

Each run writes into its work directory (a pytest tmp dir): sipp's stdout and stderr, its error
log, every SIP message (``-trace_msg``), a one-line-per-message trace (``-trace_shortmsg``), the
scenario's ``<log>`` events (``-trace_logs``), the statistics (``-trace_stat``) and the final
screens. ``wait()`` returns a ``SippResult`` built from them; ``report()`` gathers them as text
for assertion messages.

How the caller's RTP is measured. sipp 3.6.1 cannot report it: ``-rtp_echo`` echoes every
packet to its sender but leaves no count to read (its screen counter is missing from the final
``-trace_screen`` dump); the RTP checks (``rtpcheck``, ``-rtpcheck_debug``) came with sipp 3.7;
``-trace_stat`` counts SIP calls only, and ``<log>`` actions with timers would give the SIP
dialog's length, not the media's. So the phone keeps sipp's echo (the caller hears its own
audio back, as from a real handset) and puts a small relay of its own in front of it: the SDP
answer advertises the relay's port (``-key rtp_port``), the relay records every packet and
passes it to sipp's ``-mp`` port, and passes the echoes back. From the recorded headers:

- ``packets``: audio (PCMU/PCMA) packets received, the deterministic measure;
- ``media_seconds``: the stream's length on the sender's own clock (last RTP timestamp minus
  the first, plus the last packet's samples, per sender and SSRC, summed): exact, whatever the
  machine's load;
- ``audio_seconds``: the G.711 samples received (one byte each) over 8000;
- ``arrival_seconds``: first to last arrival on this machine's monotonic clock, which depends
  on scheduling; only loose bounds on it hold on a busy machine.

Ports are never fixed: each run picks free UDP ports (bind to port 0, read it, close) for SIP,
media (sipp also binds media + 2) and sipp's control socket, and starts again with new ones if
sipp could not bind them (another process took one in between). The relay keeps its own socket
bound for its whole life. Readiness is polled with a deadline: sipp is ready once the kernel
shows its SIP, media and control sockets (the last it binds) held by its process.
"""

from __future__ import annotations

import contextlib
import math
import os
import selectors
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any

SCENARIOS = Path(__file__).resolve().with_name("sipp")
HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # sipp binds its sockets in milliseconds; a deadline for a busy machine
START_ATTEMPTS = 5  # a picked port taken by someone else before sipp binds it: rare
EXIT_TIMEOUT = 30.0  # on top of sipp's own -timeout, for wait()
G711 = {0: "PCMU", 8: "PCMA"}
TELEPHONE_EVENT = 101
CLOCK_RATE = 8000  # G.711 and telephone-event
PCMA_SILENCE = b"\xd5"


class Mode(StrEnum):
    ANSWER = "answer"
    HANG_UP = "hangup"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NOT_FOUND = "not_found"
    CHALLENGE = "challenge"


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise FileNotFoundError(
            "sipp is required for the voice tests: Debian package sip-tester "
            "(`make system-deps` installs it)"
        )
    return found


def free_udp_port(host: str = HOST) -> int:
    """A UDP port free at this moment (the caller must cope with losing it: see ``_Sipp``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_media_port(host: str = HOST) -> int:
    """A UDP port P with P + 2 also free: sipp binds both (audio and video echo)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as audio:
            audio.bind((host, 0))
            port = int(audio.getsockname()[1])
            if port + 2 > 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as video:
                try:
                    video.bind((host, port + 2))
                except OSError:
                    continue
                return port


def udp_ports_of(pid: int) -> set[int]:
    """Local UDP ports of the sockets process ``pid`` holds (Linux: /proc)."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    ports: set[int] = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


# --- RTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RtpPacket:
    source: tuple[str, int]  # the sender's address
    arrival: float  # time.monotonic()
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    payload_size: int


def parse_rtp(data: bytes, source: tuple[str, int], arrival: float) -> RtpPacket | None:
    """The RTP header of ``data`` (RFC 3550), or None for anything else (RTCP included)."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    payload_type = data[1] & 0x7F
    if 72 <= payload_type <= 76:  # RTCP SR/RR/SDES/BYE/APP on the RTP port (RFC 5761)
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:  # header extension
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data) - (data[-1] if data[0] & 0x20 else 0)
    if end < offset:
        return None
    sequence, timestamp, ssrc = struct.unpack("!HII", data[2:12])
    marker = bool(data[1] & 0x80)
    return RtpPacket(source, arrival, payload_type, sequence, timestamp, ssrc, marker, end - offset)


@dataclass(frozen=True)
class RtpStats:
    """What the phone received of the caller's RTP (see the module's docstring)."""

    packets: int  # G.711 audio packets
    event_packets: int  # telephone-event (DTMF) packets
    other_packets: int  # other payload types, and datagrams that are not RTP
    payload_types: frozenset[int]
    streams: int  # distinct (sender address, SSRC) pairs of audio: one per call, normally
    media_seconds: float
    audio_seconds: float
    arrival_seconds: float
    lost: int  # gaps in the sequence numbers
    echoed: int  # datagrams sipp echoed that went back to the caller

    @classmethod
    def of(cls, packets: Iterable[RtpPacket], not_rtp: int = 0, echoed: int = 0) -> RtpStats:
        every = list(packets)
        audio = [p for p in every if p.payload_type in G711]
        events = [p for p in every if p.payload_type == TELEPHONE_EVENT]
        by_stream: dict[tuple[tuple[str, int], int], list[RtpPacket]] = {}
        for packet in audio:
            by_stream.setdefault((packet.source, packet.ssrc), []).append(packet)
        media = lost = 0
        for stream in by_stream.values():
            first, last = stream[0], stream[-1]
            media += (last.timestamp - first.timestamp) % 2**32 + last.payload_size
            expected = (last.sequence - first.sequence) % 2**16 + 1
            lost += max(0, expected - len({p.sequence for p in stream}))
        return cls(
            packets=len(audio),
            event_packets=len(events),
            other_packets=len(every) - len(audio) - len(events) + not_rtp,
            payload_types=frozenset(p.payload_type for p in every),
            streams=len(by_stream),
            media_seconds=media / CLOCK_RATE,
            audio_seconds=sum(p.payload_size for p in audio) / CLOCK_RATE,
            arrival_seconds=audio[-1].arrival - audio[0].arrival if audio else 0.0,
            lost=lost,
            echoed=echoed,
        )


class RtpRelay:
    """The phone's advertised RTP port: records each datagram, passes it to sipp's echo port,
    and sends what comes back from there to the caller's address."""

    def __init__(self, host: str = HOST) -> None:
        self.host = host
        self._outer = self._bind_even(host)
        self.port = int(self._outer.getsockname()[1])
        self._inner = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._inner.bind((host, 0))
        self._inner.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._target: tuple[str, int] | None = None
        self._caller: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._packets: list[RtpPacket] = []
        self._not_rtp = 0
        self._echoed = 0
        self._thread = threading.Thread(target=self._run, name="sipp-rtp-relay", daemon=True)
        self._thread.start()

    @staticmethod
    def _bind_even(host: str) -> socket.socket:
        """RTP SHOULD use an even port (RFC 3550 11): a few tries, then any port will do."""
        for attempt in range(20):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((host, 0))
            if sock.getsockname()[1] % 2 == 0 or attempt == 19:
                break
            sock.close()
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        return sock

    def forward_to(self, port: int) -> None:
        self._target = (self.host, port)

    def stats(self) -> RtpStats:
        with self._lock:
            return RtpStats.of(self._packets, self._not_rtp, self._echoed)

    def packets(self) -> list[RtpPacket]:
        with self._lock:
            return list(self._packets)

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._outer, selectors.EVENT_READ)
            selector.register(self._inner, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    if key.fileobj is self._outer:
                        self._from_caller()
                    else:
                        self._from_sipp()

    def _from_caller(self) -> None:
        try:
            data, address = self._outer.recvfrom(65535)
        except OSError:
            return
        packet = parse_rtp(data, address, time.monotonic())
        with self._lock:
            if packet is None:
                self._not_rtp += 1
            else:
                self._packets.append(packet)
        self._caller = address
        if self._target is not None:
            with contextlib.suppress(OSError):
                self._inner.sendto(data, self._target)

    def _from_sipp(self) -> None:
        try:
            data, address = self._inner.recvfrom(65535)
        except OSError:
            return
        if address == self._target and self._caller is not None:
            with contextlib.suppress(OSError):
                self._outer.sendto(data, self._caller)
                with self._lock:
                    self._echoed += 1

    def close(self) -> None:
        if self._thread.is_alive():
            self._wake_w.send(b"x")
            self._thread.join(10)
        for sock in (self._outer, self._inner, self._wake_r, self._wake_w):
            sock.close()


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SipMessage:
    """One line of sipp's ``-trace_shortmsg``: a SIP message sent or received."""

    at: float  # sipp's wall clock, seconds since the epoch
    sent: bool
    call_id: str
    cseq: str  # "1 INVITE"
    first_line: str  # "INVITE sip:... SIP/2.0" or "SIP/2.0 200 OK"

    @property
    def status(self) -> int | None:
        if self.first_line.startswith("SIP/2.0 "):
            return int(self.first_line.split()[1])
        return None

    @property
    def method(self) -> str | None:
        return None if self.status is not None else self.first_line.split(" ", 1)[0]


@dataclass(frozen=True)
class SippResult:
    exit_code: int  # sipp's: 0 all calls succeeded, 1 some failed, 255 fatal or timed out
    timed_out: bool  # its -timeout struck: a call never came, or never ended
    calls: int  # calls created (incoming for the phone)
    successful: int
    failed: int
    events: tuple[str, ...]  # the scenario's <log> lines, e.g. "bye-received call=1"
    messages: tuple[SipMessage, ...] = ()
    rtp: RtpStats | None = None  # the phone's only

    def flow(self, *, sent: bool, retransmissions: bool = False) -> list[SipMessage]:
        """The messages sent (or received), in order. Without ``retransmissions`` a message
        counts once per call, CSeq and first line: a busy machine may make a UDP peer resend a
        request or a final response, which must not change what a test sees."""
        seen: set[tuple[str, str, str]] = set()
        flow = []
        for m in self.messages:
            key = (m.call_id, m.cseq, m.first_line)
            if m.sent is sent and (retransmissions or key not in seen):
                seen.add(key)
                flow.append(m)
        return flow

    def requests(self, *, sent: bool, retransmissions: bool = False) -> list[str]:
        flow = self.flow(sent=sent, retransmissions=retransmissions)
        return [m.method for m in flow if m.method is not None]

    def statuses(self, *, sent: bool, retransmissions: bool = False) -> list[int]:
        flow = self.flow(sent=sent, retransmissions=retransmissions)
        return [m.status for m in flow if m.status is not None]

    def event_names(self) -> list[str]:
        """Each event's first word, in order: "invite", "answered", "ack", ..."""
        return [e.split(" ", 1)[0] for e in self.events]


# --- processes ---------------------------------------------------------------------------------


@dataclass
class _Files:
    """The files of one sipp run, under its work directory."""

    workdir: Path
    name: str
    paths: dict[str, Path] = field(init=False)

    def __post_init__(self) -> None:
        suffixes = ("stdout", "stderr", "errors", "messages", "short", "events", "stat", "screen")
        self.paths = {s: self.workdir / f"{self.name}.{s}" for s in suffixes}

    def __getitem__(self, key: str) -> Path:
        return self.paths[key]

    def text(self, key: str) -> str:
        try:
            return self.paths[key].read_text(errors="replace")
        except OSError:
            return ""

    def args(self) -> list[str]:
        p = self.paths
        return [
            "-trace_err", "-error_file", str(p["errors"]),
            "-trace_msg", "-message_file", str(p["messages"]),
            "-trace_shortmsg", "-shortmessage_file", str(p["short"]),
            "-trace_logs", "-log_file", str(p["events"]),
            "-trace_stat", "-stf", str(p["stat"]),
            "-trace_screen", "-screen_file", str(p["screen"]),
        ]  # fmt: skip


class _Sipp:
    """One sipp process: free ports, start (again on a port lost to a race), wait, kill."""

    def __init__(self, workdir: Path, name: str, host: str, timeout: float) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.host = host
        self.timeout = timeout
        self.port = 0  # SIP
        self.sipp_media_port = 0  # sipp's own -mp
        self.files = _Files(workdir, name)
        self.command: list[str] = []
        self.attempts = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._result: SippResult | None = None
        self._streams: list[IO[bytes]] = []

    # Subclasses: what to run.
    def _scenario(self) -> Path:
        raise NotImplementedError

    def _args(self) -> list[str]:
        raise NotImplementedError

    def _on_ports(self) -> None:
        """Called with ``port`` and ``sipp_media_port`` set, before each attempt."""

    def start(self) -> None:
        binary = sipp_binary()
        for attempt in range(1, START_ATTEMPTS + 1):
            self.attempts = attempt
            self.port, self.sipp_media_port = free_udp_port(self.host), free_media_port(self.host)
            control = free_udp_port(self.host)
            self._on_ports()
            self.command = [
                binary,
                *self._target(),
                "-sf", str(self._scenario()),
                "-i", self.host, "-bind_local", "-p", str(self.port),
                "-mi", self.host, "-mp", str(self.sipp_media_port),
                "-ci", self.host, "-cp", str(control),
                "-timeout", str(math.ceil(self.timeout)), "-timeout_error",
                # sipp ends a run its watchdog finds starved too often: not on a busy CI machine.
                "-watchdog_minor_maxtriggers", "1000000", "-watchdog_major_maxtriggers", "1000000",
                "-nostdin",
                *self._args(),
                *self.files.args(),
            ]  # fmt: skip
            self._close_streams()
            self._streams = [open(self.files[s], "wb") for s in ("stdout", "stderr")]  # noqa: SIM115
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=self._streams[0],
                stderr=self._streams[1],
            )
            if self._wait_bound({self.port, self.sipp_media_port, control}):
                return
            if "Address already in use" not in self.files.text("stderr"):
                break
        self._close_streams()
        raise RuntimeError(f"sipp {self.name} did not start\n{self.report()}")

    def _target(self) -> list[str]:
        return []

    def _wait_bound(self, ports: set[int]) -> bool:
        """Poll until sipp holds ``ports``: True, or False once it has exited."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while self.proc.poll() is None:
            if ports <= udp_ports_of(self.proc.pid):
                return True
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"sipp {self.name} did not bind {sorted(ports)}\n{self.report()}"
                )
            time.sleep(0.01)
        return False

    def wait(self, timeout: float | None = None) -> SippResult:
        """Wait for sipp to exit by itself (its calls done, or its -timeout), then read results."""
        assert self.proc is not None, "not started"
        limit = self.timeout + EXIT_TIMEOUT if timeout is None else timeout
        try:
            self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"sipp {self.name} did not exit within {limit} s\n{self.report()}"
            ) from None
        self._result = self._read_result()
        return self._result

    @property
    def result(self) -> SippResult:
        assert self._result is not None, "call wait() first"
        return self._result

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Stop sipp if it still runs: SIGTERM (it writes its statistics), then SIGKILL."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close_streams()

    def close(self) -> None:
        self.kill()

    def _close_streams(self) -> None:
        for stream in self._streams:
            stream.close()
        self._streams = []

    def _read_result(self, rtp: RtpStats | None = None) -> SippResult:
        assert self.proc is not None and self.proc.returncode is not None
        self._close_streams()
        stats = self._stats()
        return SippResult(
            exit_code=self.proc.returncode,
            timed_out=" timed out after " in self.files.text("stderr"),
            calls=stats.get("TotalCallCreated", 0),
            successful=stats.get("SuccessfulCall(C)", 0),
            failed=stats.get("FailedCall(C)", 0),
            events=tuple(line for line in self.files.text("events").splitlines() if line),
            messages=tuple(self._messages()),
            rtp=rtp,
        )

    def _stats(self) -> dict[str, int]:
        """The last row of the -trace_stat file: the counters at exit."""
        lines = [line for line in self.files.text("stat").splitlines() if line.strip()]
        if len(lines) < 2:
            return {}
        row = dict(zip(lines[0].split(";"), lines[-1].split(";"), strict=False))
        return {k: int(v) for k, v in row.items() if v.isdigit()}

    def _messages(self) -> Iterator[SipMessage]:
        # date \t time \t epoch \t S|R \t Call-ID \t CSeq:<n> <method> \t first line
        for line in self.files.text("short").splitlines():
            fields = line.split("\t", 6)
            if len(fields) == 7 and fields[3] in ("S", "R"):
                cseq = fields[5].removeprefix("CSeq:").strip()
                yield SipMessage(
                    float(fields[2]), fields[3] == "S", fields[4], cseq, fields[6].strip()
                )

    def report(self) -> str:
        """Everything sipp left, as text for a failure message."""
        code = None if self.proc is None else self.proc.returncode
        parts = [
            f"--- sipp {self.name}: exit code {code}, attempt {self.attempts}, in {self.workdir}",
            " ".join(self.command),
        ]
        for key in ("stderr", "errors", "events", "short"):
            text = self.files.text(key).strip()
            if text:
                parts.append(f"--- {self.files[key].name}\n{text[-6000:]}")
        return "\n".join(parts)

    def __enter__(self) -> _Sipp:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SippPhone(_Sipp):
    """The answering side (UAS): ``with SippPhone(tmp_path / "phone", "answer") as phone:``,
    dial ``phone.uri()``, then ``result = phone.wait()``."""

    def __init__(
        self,
        workdir: Path,
        mode: Mode | str = Mode.ANSWER,
        *,
        calls: int = 1,
        ring_seconds: float = 0.0,
        hang_up_after: float = 2.0,
        user: str = "smscloud",
        password: str = "secret",
        realm: str = "smscloud.test",
        timeout: float = 60.0,
        host: str = HOST,
        name: str = "phone",
    ) -> None:
        super().__init__(workdir, name, host, timeout)
        self.mode = Mode(mode)
        self.calls = calls
        self.ring_seconds = ring_seconds
        self.hang_up_after = hang_up_after
        self.user, self.password, self.realm = user, password, realm
        self.relay = RtpRelay(host)
        self.media_port = self.relay.port  # the port in the phone's SDP
        try:
            self.start()
        except BaseException:
            self.relay.close()
            raise

    def uri(self, number: str = "13800138000") -> str:
        return f"sip:{number}@{self.host}:{self.port}"

    def _scenario(self) -> Path:
        return SCENARIOS / f"{self.mode.value}.xml"

    def _on_ports(self) -> None:
        self.relay.forward_to(self.sipp_media_port)

    def _args(self) -> list[str]:
        args = [
            "-rtp_echo",
            "-m", str(self.calls),
            "-d", str(round(self.ring_seconds * 1000)),
            "-key", "rtp_port", str(self.media_port),
            "-key", "realm", self.realm,
            "-key", "auth_user", self.user,
            "-key", "auth_password", self.password,
        ]  # fmt: skip
        if self.mode is Mode.HANG_UP:
            args += ["-recv_timeout", str(round(self.hang_up_after * 1000))]
        return args

    def rtp(self) -> RtpStats:
        """The caller's RTP so far (``wait()``'s result holds it as it was at sipp's exit)."""
        return self.relay.stats()

    def _read_result(self, rtp: RtpStats | None = None) -> SippResult:
        return super()._read_result(self.relay.stats())

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.relay.close()

    def __enter__(self) -> SippPhone:
        return self


class SippCaller(_Sipp):
    """A sipp UAC, to exercise the phone scenarios (and any SIP UAS): one call to
    ``host:port``. It streams ``audio_seconds`` of PCMA (``rtp_stream``, 20 ms packets) once
    answered, and hangs up after ``talk_seconds`` unless the phone hangs up first; with
    ``cancel_after`` it CANCELs that long after the 180 instead. ``auth_uri`` sets the
    digest-uri of its credentials (sipp's ``-auth_uri``, "sip:" put before it); sipp's own is
    ``sip:host:port``, which a UAS checking it against the Request-URI refuses."""

    def __init__(
        self,
        workdir: Path,
        target: tuple[str, int],
        *,
        number: str = "13800138000",
        audio_seconds: float = 1.0,
        talk_seconds: float = 3.0,
        cancel_after: float | None = None,
        user: str = "smscloud",
        password: str = "secret",
        auth_uri: str | None = None,
        timeout: float = 60.0,
        host: str = HOST,
        name: str = "caller",
    ) -> None:
        super().__init__(workdir, name, host, timeout)
        self.target = target
        self.number = number
        self.talk_seconds = talk_seconds
        self.cancel_after = cancel_after
        self.auth_uri = auth_uri
        self.user, self.password = user, password
        # rtp_stream plays a raw file from sipp's working directory, in whole 160-byte packets.
        self.audio_packets = max(1, round(audio_seconds * CLOCK_RATE / 160))
        (self.workdir / "caller.pcma").write_bytes(PCMA_SILENCE * 160 * self.audio_packets)
        self.start()

    def _target(self) -> list[str]:
        return [f"{self.target[0]}:{self.target[1]}"]

    def _scenario(self) -> Path:
        return SCENARIOS / ("uac.xml" if self.cancel_after is None else "uac_cancel.xml")

    def _args(self) -> list[str]:
        args = ["-m", "1", "-s", self.number, "-au", self.user, "-ap", self.password]
        if self.auth_uri is not None:
            args += ["-auth_uri", self.auth_uri]
        if self.cancel_after is None:
            return [*args, "-recv_timeout", str(round(self.talk_seconds * 1000))]
        return [*args, "-d", str(round(self.cancel_after * 1000))]

    def __enter__(self) -> SippCaller:
        return self


class SippPeers:
    """Phones and callers for one test, each in its own directory under ``root`` (the test's
    tmp_path); ``close()`` ends every process, whatever the test did, and prints each one's
    ``report()``, which pytest shows with a failing test's captured output. As a fixture:

        @pytest.fixture
        def sipp(tmp_path: Path) -> Iterator[SippPeers]:
            with SippPeers(tmp_path) as peers:
                yield peers
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: list[_Sipp] = []

    def _dir(self, name: str) -> Path:
        n = sum(1 for p in self._made if p.name == name)
        return self.root / (f"sipp-{name}" + (f"-{n + 1}" if n else ""))

    def phone(self, mode: Mode | str = Mode.ANSWER, **kwargs: Any) -> SippPhone:
        phone = SippPhone(self._dir("phone"), mode, **kwargs)
        self._made.append(phone)
        return phone

    def caller(self, phone: SippPhone | tuple[str, int], **kwargs: Any) -> SippCaller:
        """A caller of ``phone``: a sipp phone, or any SIP UAS's (host, port)."""
        target = (phone.host, phone.port) if isinstance(phone, SippPhone) else phone
        caller = SippCaller(self._dir("caller"), target, **kwargs)
        self._made.append(caller)
        return caller

    def report(self) -> str:
        return "\n".join(p.report() for p in self._made)

    def close(self) -> None:
        try:
            for peer in reversed(self._made):
                peer.close()
        finally:
            if self._made:
                print(self.report())

    def __enter__(self) -> SippPeers:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
