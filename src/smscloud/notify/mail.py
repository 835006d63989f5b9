"""E-mail delivery: compose a UTF-8 message and hand it to an SMTP server or a local outbox.

``mailer_from_settings`` picks the implementation: with no SMTP URL configured the messages
are written as ``.eml`` files into an outbox directory (the embedded default, so a demo needs
no mail server and an operator can still read what would have been sent).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from smscloud.private_files import private_dir, write_private

__all__ = [
    "Mail",
    "MailError",
    "Mailer",
    "OutboxMailer",
    "SmtpMailer",
    "compose",
    "mailer_from_settings",
    "outbox",
]


class MailError(Exception):
    """A message could not be delivered (connection, TLS, authentication or SMTP failure).
    The caller may retry later."""


@dataclass(frozen=True)
class Mail:
    """A plain-text message (UTF-8, may be Chinese) to one or more recipients."""

    to: tuple[str, ...]
    subject: str
    body: str

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError("a mail needs at least one recipient")
        for address in self.to:
            if "@" not in parseaddr(address)[1]:
                raise ValueError(f"not an e-mail address: {address!r}")


def _domain(sender: str) -> str:
    _, _, domain = parseaddr(sender)[1].rpartition("@")
    return domain or "smscloud.localdomain"


def compose(mail: Mail, sender: str) -> EmailMessage:
    """The message as sent: ``From``/``To``/``Subject`` (RFC 2047-encoded when not ASCII),
    ``Date``, a ``Message-ID`` in the sender's domain, and a UTF-8 text/plain body."""
    message = EmailMessage(policy=email.policy.default)
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(mail.body, charset="utf-8")
    return message


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class SmtpMailer:
    """Delivers through an SMTP server with aiosmtplib (plain, STARTTLS or implicit TLS)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        use_tls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if starttls and use_tls:
            raise ValueError("starttls and use_tls are mutually exclusive")
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_tls = use_tls
        self.timeout = timeout

    def __repr__(self) -> str:  # never shows the password
        mode = "tls" if self.use_tls else "starttls" if self.starttls else "plain"
        return f"SmtpMailer({self.host}:{self.port}, {mode}, user={self.username or '-'})"

    async def send(self, mail: Mail) -> None:
        message = compose(mail, self.sender)
        try:
            await aiosmtplib.send(
                message,
                sender=parseaddr(self.sender)[1],
                recipients=[parseaddr(address)[1] for address in mail.to],
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                use_tls=self.use_tls,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            # OSError covers refused connections, DNS failures, TLS errors and timeouts.
            raise MailError(
                f"cannot send mail via {self.host}:{self.port}: {type(exc).__name__}: {exc}"
            ) from exc


class OutboxMailer:
    """Writes each message as ``<UTC timestamp>-<8 hex>.eml`` into a directory."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        data = compose(mail, self.sender).as_bytes()
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
        await asyncio.to_thread(_write_atomically, self.directory, name, data)


def _write_atomically(directory: Path, name: str, data: bytes) -> Path:
    private_dir(directory)
    return write_private(directory / name, data, durable=True)


def outbox(directory: Path) -> list[tuple[str, EmailMessage]]:
    """The messages saved by an ``OutboxMailer``, newest first: ``(file name, message)``."""
    if not directory.is_dir():
        return []
    names = sorted(
        (p.name for p in directory.iterdir() if p.suffix == ".eml" and not p.name.startswith(".")),
        reverse=True,
    )
    result: list[tuple[str, EmailMessage]] = []
    for name in names:
        message = email.message_from_bytes(
            (directory / name).read_bytes(), policy=email.policy.default
        )
        result.append((name, message))
    return result


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def mailer_from_settings(smtp_url: str, sender: str, outbox_dir: Path) -> Mailer:
    """``""`` → an ``OutboxMailer``; ``smtp://[user:pass@]host[:port][?starttls=1]`` → plain
    SMTP or STARTTLS (port 25 by default, 587 with STARTTLS); ``smtps://...`` → implicit TLS
    (port 465 by default). User and password are percent-decoded."""
    if not smtp_url.strip():
        return OutboxMailer(outbox_dir, sender)
    shown = _redact(smtp_url)
    parts = urlsplit(smtp_url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"SMTP URL must start with smtp:// or smtps://, got {shown!r}")
    if not parts.hostname:
        raise ValueError(f"SMTP URL has no host: {shown!r}")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"SMTP URL must not have a path or fragment: {shown!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"SMTP URL has an invalid port: {shown!r}") from None
    starttls = False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls":
            raise ValueError(f"unknown SMTP URL parameter {key!r} (only starttls): {shown!r}")
        if value.lower() not in _TRUE | _FALSE:
            raise ValueError(f"starttls must be 1 or 0, got {value!r}: {shown!r}")
        starttls = value.lower() in _TRUE
    use_tls = parts.scheme == "smtps"
    if use_tls and starttls:
        raise ValueError(f"smtps:// is already TLS; starttls=1 needs smtp://: {shown!r}")
    if port is None:
        port = 465 if use_tls else 587 if starttls else 25
    return SmtpMailer(
        parts.hostname,
        port,
        sender,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        starttls=starttls,
        use_tls=use_tls,
    )


def _redact(url: str) -> str:
    """The URL with its password hidden, for error messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
