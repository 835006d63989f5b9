"""Where uploaded voice files live, and how one becomes audio a call can play.

Files: ``<data_dir>/voice_files/<tenant id>/<fid>.<mp3|wav>``, each 0600 in directories 0700
(``private_files``), named by the SHA-1 of their bytes, so the same bytes are stored once per
tenant and a name says nothing a tenant chose.

Decoding: a call plays 8 kHz 16-bit mono little-endian PCM (what ``carriers/voice`` turns into
G.711). Debian's ``sox`` converts a WAV (PCM, A-law, µ-law) or, with its MP3 handler (package
``libsox-fmt-mp3``), an MP3: ``sox -V1 -D -t <type> <file> -t raw -r 8000 -e signed-integer
-b 16 -c 1 -L -``. ``-D`` turns dither off so that a file always decodes to the same bytes.
When sox has no handler for MP3 ("no handler for given file type"), ``ffmpeg`` is tried
(``-f s16le -ac 1 -ar 8000``); with neither, the file cannot be played and
:class:`AudioDecodeError` says which package is missing. The PCM is kept beside the file as
``<fid>.pcm`` (0600), so each file is decoded once.

Programs run with :func:`subprocess.run` in a thread (:func:`asyncio.to_thread`), never with
asyncio's subprocesses (on Python 3.11 a loop closing while a process starts can wait forever,
as ``carriers/voice/speech.py`` explains), and with a timeout after which the program is
killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path

from smscloud.private_files import write_private

__all__ = [
    "DECODE_TIMEOUT",
    "MEDIA_SUFFIXES",
    "AudioDecodeError",
    "decode_to_pcm",
    "voice_file_path",
    "voice_files_dir",
]

DECODE_TIMEOUT = 30.0  # seconds for one decode; a five-minute MP3 takes well under one
MEDIA_SUFFIXES = frozenset({"mp3", "wav"})
_SAMPLE_RATE = "8000"
_SOX_OUT = ("-t", "raw", "-r", _SAMPLE_RATE, "-e", "signed-integer", "-b", "16", "-c", "1", "-L")
_FFMPEG_IN = ("-nostdin", "-hide_banner", "-loglevel", "error", "-i")
_FFMPEG_OUT = ("-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", _SAMPLE_RATE)
_NO_HANDLER = "no handler"  # sox: "no handler for given file type `mp3'"


class AudioDecodeError(Exception):
    """A voice file could not be decoded: no program can read it, or it failed or hung."""


def voice_files_dir(data_dir: Path, tenant_id: int) -> Path:
    """The directory holding one tenant's uploaded voice files."""
    return data_dir / "voice_files" / str(int(tenant_id))


def voice_file_path(data_dir: Path, tenant_id: int, fid: str, media_type: str) -> Path:
    """Where the bytes of the tenant's file ``fid`` (a SHA-1, lower-case hex) are kept."""
    if media_type not in MEDIA_SUFFIXES:
        raise ValueError(f"media type must be mp3 or wav, not {media_type!r}")
    if len(fid) != 40 or any(c not in "0123456789abcdef" for c in fid):
        raise ValueError("fid must be 40 lower-case hex digits")
    return voice_files_dir(data_dir, tenant_id) / f"{fid}.{media_type}"


async def decode_to_pcm(
    path: Path,
    *,
    sox: str = "sox",
    ffmpeg: str = "ffmpeg",
    time_limit: float = DECODE_TIMEOUT,
) -> bytes:
    """One playing of the file at ``path`` (``.mp3`` or ``.wav``) as 8 kHz 16-bit mono PCM,
    decoded once and then read from ``<path without suffix>.pcm``. Each program run is
    killed after ``time_limit`` seconds."""
    cache = path.with_suffix(".pcm")
    cached = await asyncio.to_thread(_read_cache, cache)
    if cached is not None:
        return cached
    pcm = await asyncio.to_thread(_decode, path, sox, ffmpeg, time_limit)
    await asyncio.to_thread(write_private, cache, pcm)
    return pcm


def _read_cache(path: Path) -> bytes | None:
    with contextlib.suppress(OSError):
        pcm = path.read_bytes()
        if len(pcm) % 2 == 0 and pcm:
            return pcm
    return None


def _decode(path: Path, sox: str, ffmpeg: str, timeout: float) -> bytes:
    if not path.is_file():
        raise AudioDecodeError(f"voice file {path.name} is missing")
    media = path.suffix.lstrip(".")
    if media not in MEDIA_SUFFIXES:
        raise AudioDecodeError(f"voice file {path.name} is neither .mp3 nor .wav")
    # The path goes after ``-t``; it is ours (data_dir/voice_files/<id>/<sha1>.<type>) and made
    # absolute, so it never reads as an option.
    name = str(path.resolve())
    try:
        return _run([sox, "-V1", "-D", "-t", media, name, *_SOX_OUT, "-"], timeout)
    except (_NoHandlerError, _MissingProgramError) as sox_error:
        try:
            return _run([ffmpeg, *_FFMPEG_IN, name, *_FFMPEG_OUT, "-"], timeout)
        except _MissingProgramError:
            missing = isinstance(sox_error, _MissingProgramError)
            hint = "install sox" if missing else "install libsox-fmt-mp3"
            raise AudioDecodeError(
                f"cannot decode {media}: {sox_error} ({hint}), and {ffmpeg} is not installed"
            ) from None


class _NoHandlerError(AudioDecodeError):
    """sox has no handler for the file's type."""


class _MissingProgramError(AudioDecodeError):
    """The program is not installed."""


def _run(argv: list[str], timeout: float) -> bytes:
    """``argv``'s standard output; the program is killed after ``timeout`` seconds."""
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise _MissingProgramError(f"{argv[0]} is not installed") from exc
    except OSError as exc:
        raise AudioDecodeError(f"cannot run {argv[0]}: {exc}") from exc
    except subprocess.TimeoutExpired:
        raise AudioDecodeError(f"{argv[0]} took longer than {timeout} s") from None
    message = done.stderr.decode(errors="replace").strip()
    if done.returncode != 0:
        if _NO_HANDLER in message:
            raise _NoHandlerError(f"{argv[0]}: {message}")
        raise AudioDecodeError(f"{argv[0]} failed with status {done.returncode}: {message}")
    if not done.stdout or len(done.stdout) % 2:
        raise AudioDecodeError(f"{argv[0]} produced no whole 16-bit samples")
    return done.stdout
