"""E-mail delivery against a real SMTP server (aiosmtpd in a thread) and the file outbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from smscloud.notify.mail import (
    Mail,
    MailError,
    OutboxMailer,
    SmtpMailer,
    mailer_from_settings,
    outbox,
)
from tests.support.live import free_port

SENDER = "smscloud <noreply@sms.example.com>"
SUBJECT = "【smscloud】签名审核通过 / Signature approved: 腾讯云"
BODY = "您好，\n\n您提交的签名“腾讯云”已审核通过。\n\nYour signature has been approved.\n"
MAIL = Mail(to=("alice@example.com", "鲍勃 <bob@example.org>"), subject=SUBJECT, body=BODY)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool
    login: bytes | None


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        auth = session.auth_data
        self.received.append(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                authenticated=bool(session.authenticated),
                login=auth.login if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 OK"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"mailer", "s3cret:密".encode())
    # handled=False: aiosmtpd answers 535 itself (handled=True would leave the client hanging).
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = free_port()
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def test_smtp_delivers_utf8_message(smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    asyncio.run(SmtpMailer("127.0.0.1", port, SENDER, timeout=5).send(MAIL))

    [got] = collector.received
    assert got.mail_from == "noreply@sms.example.com"
    assert got.rcpt_tos == ["alice@example.com", "bob@example.org"]
    assert not got.authenticated
    msg = got.message
    assert msg["From"] == SENDER
    assert msg["Subject"] == SUBJECT
    assert "鲍勃 <bob@example.org>" in str(msg["To"])
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n") == BODY
    assert msg["Date"] is not None
    assert str(msg["Message-ID"]).endswith("@sms.example.com>")


def test_smtp_authenticates_with_credentials(smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    mailer = mailer_from_settings(
        f"smtp://mailer:s3cret%3A%E5%AF%86@127.0.0.1:{port}", SENDER, Path("unused")
    )
    asyncio.run(mailer.send(MAIL))

    [got] = collector.received
    assert got.authenticated
    assert got.login == b"mailer"
    assert got.message["Subject"] == SUBJECT


def test_smtp_wrong_password_raises_mail_error(smtp_server: tuple[Collector, int]) -> None:
    collector, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, SENDER, username="mailer", password="nope", timeout=5)
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port}.*535"):
        asyncio.run(mailer.send(MAIL))
    assert collector.received == []


def test_connection_refused_raises_mail_error() -> None:
    port = free_port()  # nothing listens there
    mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=2)
    with pytest.raises(MailError, match=rf"cannot send mail via 127\.0\.0\.1:{port}"):
        asyncio.run(mailer.send(MAIL))


def test_implicit_tls_against_plain_server_raises_mail_error(
    smtp_server: tuple[Collector, int],
) -> None:
    collector, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, SENDER, use_tls=True, timeout=2)
    with pytest.raises(MailError):
        asyncio.run(mailer.send(MAIL))
    assert collector.received == []


def test_outbox_round_trip_newest_first(tmp_path: Path) -> None:
    directory = tmp_path / "mail" / "outbox"  # created on first send
    assert outbox(directory) == []
    mailer = OutboxMailer(directory, SENDER)
    asyncio.run(mailer.send(MAIL))
    time.sleep(0.002)
    second = Mail(to=("ops@example.com",), subject="第二封 / second", body="正文二\n")
    asyncio.run(mailer.send(second))

    files = sorted(p.name for p in directory.iterdir())
    assert len(files) == 2
    assert all(name.endswith(".eml") and len(name.split("-")[-1]) == 12 for name in files)

    saved = outbox(directory)
    assert [name for name, _ in saved] == sorted(files, reverse=True)
    (_, newest), (_, oldest) = saved
    assert newest["Subject"] == "第二封 / second"
    assert newest.get_content() == "正文二\n"
    assert oldest["Subject"] == SUBJECT
    assert oldest["From"] == SENDER
    assert oldest.get_content() == BODY


def test_outbox_ignores_temporary_files(tmp_path: Path) -> None:
    asyncio.run(OutboxMailer(tmp_path, SENDER).send(MAIL))
    (tmp_path / ".abc.tmp").write_bytes(b"partial")
    (tmp_path / "notes.txt").write_text("x")
    assert [m["Subject"] for _, m in outbox(tmp_path)] == [SUBJECT]


def test_mail_needs_recipients() -> None:
    with pytest.raises(ValueError, match="recipient"):
        Mail(to=(), subject="s", body="b")
    with pytest.raises(ValueError, match="not an e-mail address"):
        Mail(to=("nobody",), subject="s", body="b")


def test_mailer_from_settings_forms(tmp_path: Path) -> None:
    out = mailer_from_settings("", SENDER, tmp_path)
    assert isinstance(out, OutboxMailer)
    assert (out.directory, out.sender) == (tmp_path, SENDER)

    plain = mailer_from_settings("smtp://mail.example.com", SENDER, tmp_path)
    assert isinstance(plain, SmtpMailer)
    assert (plain.host, plain.port, plain.starttls, plain.use_tls) == (
        "mail.example.com",
        25,
        False,
        False,
    )
    assert (plain.username, plain.password, plain.sender) == ("", "", SENDER)

    tls = mailer_from_settings(
        "smtp://u%40x:p%40ss@mx.example.com:2525?starttls=1", SENDER, tmp_path
    )
    assert isinstance(tls, SmtpMailer)
    assert (tls.host, tls.port, tls.starttls, tls.use_tls) == ("mx.example.com", 2525, True, False)
    assert (tls.username, tls.password) == ("u@x", "p@ss")
    assert "p@ss" not in repr(tls)

    default_submission = mailer_from_settings("smtp://h?starttls=1", SENDER, tmp_path)
    assert isinstance(default_submission, SmtpMailer)
    assert default_submission.port == 587

    smtps = mailer_from_settings("smtps://user:pw@smtp.example.com", SENDER, tmp_path)
    assert isinstance(smtps, SmtpMailer)
    assert (smtps.port, smtps.starttls, smtps.use_tls) == (465, False, True)
    assert (smtps.username, smtps.password) == ("user", "pw")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com", "smtp:// or smtps://"),
        ("mail.example.com:25", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://user:pw@:25", "no host"),
        ("smtp://h:99999", "invalid port"),
        ("smtp://h:abc", "invalid port"),
        ("smtp://h/path", "path"),
        ("smtp://h?tls=1", "unknown SMTP URL parameter"),
        ("smtp://h?starttls=maybe", "starttls must be"),
        ("smtps://h?starttls=1", "already TLS"),
    ],
)
def test_mailer_from_settings_rejects_bad_urls(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message) as info:
        mailer_from_settings(url, SENDER, tmp_path)
    assert "pw" not in str(info.value)
