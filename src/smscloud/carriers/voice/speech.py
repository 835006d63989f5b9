"""Speech for calls: text to 8 kHz 16-bit PCM with Debian's espeak-ng and sox, cached.

Voices, and why
---------------
espeak-ng is the one engine on hand that speaks Mandarin offline (Debian packages no MBROLA
Chinese voice, and no Piper Mandarin voice is reachable). Its voice is chosen per text:
- text holding Han characters gets ``cmn`` (Mandarin). Debian's ``cmn`` dictionary lacks many
  common characters (验, 码, 您, 的, 分钟, 零, even 一 三 四 六 七 八 九) and reads each missing one
  as its pinyin spelled out in English (``espeak-ng -x`` shows ``(en)ja55nf'o@55`` for 验).
  What it does read right are Arabic digits and Latin letters, and tone-numbered pinyin under
  ``cmn-latn-pinyin`` (``nin2 de5 yan4 zheng4 ma3 shi4``). So the fixed words of a
  verification-code call are written in pinyin, and its digits as digits;
- any other text gets ``en``; a ``language`` given by the caller (``zh``/``cmn``, ``en``)
  overrides the guess.

Digits: both voices read ``123456`` as one number ("one hundred twenty-three thousand...") and
``1 2 3`` or ``1,2,3`` digit by digit with no pause between them; only a comma followed by a
space, or the full-width ``，``, makes them pause. A template's values come here with their
digits separated so (``domain.voice_templates.read_digits_one_by_one``).

A verification code is spoken as one clip per character, each rendered (and cached) once,
rather than as ``1，2，3，4，5，6`` in one go: a million codes would otherwise leave a million
files of some 40 kB in the cache, while the clips of ten digits and 26 letters per voice serve
them all, with no espeak-ng run once they are warm. Each clip ends in some 0.3 s of
espeak-ng's own silence, so with the pause between segments the characters come about 0.75 s
apart, slow enough to write down: a six-digit code prompt lasts 6.5 s in Mandarin and 7.0 s
in English (measured).

Rendering: espeak-ng writes 22,050 Hz WAV to its stdout; sox (``sox -D -v 0.9 -t wav - -r 8000
-c 1 -e signed-integer -b 16 -L -t raw -``) resamples it to 8 kHz mono little-endian PCM.
``-v 0.9`` is an input option, so it goes before the input (after it sox fails with "missing
filename"); at full volume sox reported clipped samples. ``-D`` turns off sox's dither, which
is random: without it the same text rendered twice differed (measured), and G.711 quantises
far more coarsely than the 16 bits dither would smooth. Text goes to espeak-ng on its stdin,
never as an argument (a text starting with ``-`` is no option), and no shell runs either
program.

Caching: each (voice, text) is rendered once. The PCM is kept in ``cache_dir`` under the
SHA-256 of the rendering settings, voice and text (written atomically, mode 0600, through
``private_files``), and in memory in a small LRU. The directory is held under ``disk_bytes``
by removing the files least recently used (a hit refreshes a file's mtime). Renders of the same
segment that overlap share one run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import os
import re
import subprocess
import wave
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from smscloud.domain.voice_templates import has_han
from smscloud.private_files import private_dir, write_private

__all__ = [
    "ENGLISH",
    "MANDARIN",
    "PAUSE_SECONDS",
    "PINYIN",
    "SAMPLE_RATE",
    "Segment",
    "Speech",
    "SpeechError",
    "choose_voice",
    "code_prompt",
    "pcm_duration",
    "wav_bytes",
]

log = logging.getLogger(__name__)

MANDARIN = "cmn"
PINYIN = "cmn-latn-pinyin"  # Mandarin read from tone-numbered pinyin
ENGLISH = "en"
SAMPLE_RATE = 8000  # G.711's; 16-bit mono, so 16,000 octets a second
PAUSE_SECONDS = 0.2  # between the segments of one prompt

_PAUSE = bytes(2 * round(SAMPLE_RATE * PAUSE_SECONDS))
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_CODE = re.compile("[0-9A-Za-z]+")
_PHRASES = {  # "your verification code is", in words the voice reads right
    MANDARIN: (PINYIN, "nin2 de5 yan4 zheng4 ma3 shi4"),  # 您的验证码是
    ENGLISH: (ENGLISH, "Your verification code is"),
}
_ESPEAK_ARGS = ("-b", "1", "--stdout", "--stdin")  # UTF-8 text on stdin, WAV on stdout
_SOX_ARGS = ("-V1", "-D", "-v", "0.9", "-t", "wav", "-")  # errors only, no dither; from stdin
_SOX_OUT = ("-r", str(SAMPLE_RATE), "-c", "1", "-e", "signed-integer", "-b", "16", "-L")
# Part of every cache key: a change here must never read audio rendered the old way.
_RENDERING = "espeak-ng -b 1 | sox -D -v 0.9 -> 8000 Hz s16le mono"


class SpeechError(Exception):
    """Speech could not be rendered: espeak-ng or sox is missing, failed or hung, or no
    voice serves the language asked for."""


class Segment(NamedTuple):
    """A piece of a prompt: the espeak-ng voice and the text it reads."""

    voice: str
    text: str


def choose_voice(text: str, language: str | None = None) -> str:
    """The voice for ``text``: the one for ``language`` if given, else Mandarin for text
    with Han characters and English for the rest."""
    if language is None:
        return MANDARIN if has_han(text) else ENGLISH
    tag = language.strip().lower().replace("_", "-")
    if tag in ("zh", "cmn") or tag.startswith(("zh-", "cmn-")):
        return MANDARIN
    if tag == "en" or tag.startswith("en-"):
        return ENGLISH
    raise SpeechError(f"no voice for language {language!r} (zh and en are spoken)")


def code_prompt(code: str, language: str = "zh") -> list[Segment]:
    """What to say for a verification code: "your verification code is", then the code one
    character a segment, letters spelled as capitals (``language``: zh or en)."""
    if _CODE.fullmatch(code) is None:
        raise ValueError("a verification code is digits and letters")
    voice = choose_voice("", language)
    phrase = Segment(*_PHRASES[voice])
    return [phrase, *(Segment(voice, char.upper()) for char in code)]


def pcm_duration(pcm: bytes) -> float:
    """Seconds of 8 kHz 16-bit mono PCM."""
    return len(pcm) / (2 * SAMPLE_RATE)


def wav_bytes(pcm: bytes) -> bytes:
    """8 kHz 16-bit mono PCM as a RIFF WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm)
    return out.getvalue()


class Speech:
    """Renders prompts to PCM with espeak-ng and sox, caching each segment (module header).

    ``timeout`` bounds each program run, ``memory_items`` the segments kept in memory and
    ``disk_bytes`` the size of ``cache_dir``.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        espeak: str = "espeak-ng",
        sox: str = "sox",
        timeout: float = 10.0,
        memory_items: int = 64,
        disk_bytes: int = 64 * 2**20,
    ) -> None:
        self.cache_dir = private_dir(cache_dir)
        self.espeak = espeak
        self.sox = sox
        self.timeout = timeout
        self.memory_items = memory_items
        self.disk_bytes = disk_bytes
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._pending: dict[str, asyncio.Task[bytes]] = {}

    async def render(self, text: str, *, language: str | None = None) -> bytes:
        """One playing of ``text`` as 8 kHz 16-bit mono PCM (see :func:`choose_voice`)."""
        return await self.render_segments([Segment(choose_voice(text, language), text)])

    async def render_code(self, code: str, *, language: str = "zh") -> bytes:
        """One playing of the prompt for a verification code (:func:`code_prompt`)."""
        return await self.render_segments(code_prompt(code, language))

    async def render_segments(self, segments: Sequence[Segment]) -> bytes:
        """The segments one after another, a short pause between each two. Segments not
        cached yet are rendered side by side."""
        spoken = [s for s in segments if s.text.strip()]
        pieces = await asyncio.gather(*(self._segment(s.voice, s.text) for s in spoken))
        return _PAUSE.join(pieces)

    async def _segment(self, voice: str, text: str) -> bytes:
        key = hashlib.sha256(f"{_RENDERING}\0{voice}\0{text}".encode()).hexdigest()
        pcm = self._memory.get(key)
        if pcm is not None:
            self._memory.move_to_end(key)
            return pcm
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._load_or_render(key, voice, text))
            self._pending[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        # One caller giving up does not cancel the run the others wait for.
        return await asyncio.shield(task)

    def _settle(self, key: str, task: asyncio.Task[bytes]) -> None:
        self._pending.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        self._memory[key] = task.result()
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)

    async def _load_or_render(self, key: str, voice: str, text: str) -> bytes:
        path = self.cache_dir / f"{key}.pcm"
        cached = await asyncio.to_thread(_read_touching, path)
        if cached is not None:
            return cached
        wav = await self._run([self.espeak, "-v", voice, *_ESPEAK_ARGS], text)
        if not wav:
            raise SpeechError(f"{self.espeak} produced no audio for voice {voice!r}")
        pcm = await self._run([self.sox, *_SOX_ARGS, *_SOX_OUT, "-t", "raw", "-"], wav)
        await asyncio.to_thread(self._store, path, pcm)
        return pcm

    def _store(self, path: Path, pcm: bytes) -> None:
        """Keep ``pcm`` on disk; a cache that cannot be written costs a render, not a call."""
        try:
            write_private(path, pcm)
            _prune(self.cache_dir, self.disk_bytes, keep=path)
        except OSError as exc:
            log.warning("speech cache %s not written: %s", self.cache_dir, exc)

    async def _run(self, argv: list[str], stdin: bytes | str) -> bytes:
        """``argv``'s stdout for ``stdin``; SpeechError if it cannot start, fails or hangs.

        The program runs in a thread with :func:`subprocess.run`, not with asyncio's
        subprocesses: on Python 3.11 a loop closing while a process starts can wait forever for
        its exit (CPython issues 103847, 125502), and a render is rare enough (each text once)
        for a thread to cost nothing. ``subprocess.run`` kills and reaps a program that outlives
        the timeout, so a run nobody waits for any more ends within ``timeout`` all the same.
        """
        data = stdin.encode() if isinstance(stdin, str) else stdin
        return await asyncio.to_thread(_run_program, argv, data, self.timeout)


def _run_program(argv: list[str], data: bytes, timeout: float) -> bytes:
    try:
        done = subprocess.run(argv, input=data, capture_output=True, timeout=timeout, check=False)
    except OSError as exc:
        raise SpeechError(f"cannot run {argv[0]}: {exc}") from exc
    except subprocess.TimeoutExpired:
        raise SpeechError(f"{argv[0]} took longer than {timeout} s") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise SpeechError(f"{argv[0]} failed with status {done.returncode}: {message}")
    return done.stdout


def _read_touching(path: Path) -> bytes | None:
    """The cached PCM at ``path`` (its mtime refreshed), or None if absent, unreadable or
    damaged."""
    try:
        pcm = path.read_bytes()
    except OSError:
        return None
    if len(pcm) % 2:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return pcm


def _prune(directory: Path, limit: int, *, keep: Path) -> None:
    """Remove the least recently used ``.pcm`` files until ``directory`` holds ``limit``
    octets or fewer of them (``keep``, just written, stays)."""
    files: list[tuple[float, int, str]] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(".pcm") and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    info = entry.stat()
                    files.append((info.st_mtime, info.st_size, entry.path))
    total = sum(size for _, size, _ in files)
    for _, size, name in sorted(files):
        if total <= limit:
            break
        if name != str(keep):
            Path(name).unlink(missing_ok=True)
            total -= size
