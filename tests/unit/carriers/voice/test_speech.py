"""Speech: real espeak-ng and sox runs (no mocks), counted through a wrapper script; the cache
on disk and in memory; voices; digits read one by one; failures as SpeechError."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shlex
import shutil
import stat
import wave
from collections.abc import Coroutine
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

import pytest

from smscloud.carriers.voice.speech import (
    ENGLISH,
    MANDARIN,
    PAUSE_SECONDS,
    PINYIN,
    SAMPLE_RATE,
    Segment,
    Speech,
    SpeechError,
    choose_voice,
    code_prompt,
    pcm_duration,
    wav_bytes,
)
from smscloud.domain.voice_templates import read_digits_one_by_one

T = TypeVar("T")
ESPEAK = shutil.which("espeak-ng")
SOX = shutil.which("sox")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def le16(*samples: int) -> bytes:
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


def peak(pcm: bytes) -> int:
    """The largest magnitude among the samples of 16-bit little-endian PCM."""
    samples = (int.from_bytes(pcm[i : i + 2], "little", signed=True) for i in range(0, len(pcm), 2))
    return max(map(abs, samples), default=0)


@dataclass
class Counted:
    """A program that logs each run (its arguments, one line) and then execs the real one."""

    path: Path
    log: Path

    def runs(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def wrapper(directory: Path, name: str, real: str | None) -> Counted:
    if real is None:
        pytest.fail(f"{name} is not installed: the suite needs Debian's espeak-ng and sox")
    log = directory / f"{name}.log"
    script = directory / f"counting-{name}"
    script.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {shlex.quote(str(log))}\n'
        f'exec {shlex.quote(real)} "$@"\n'
    )
    script.chmod(0o755)
    return Counted(script, log)


def failing(directory: Path, body: str) -> str:
    script = directory / "broken-espeak"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def espeak(tmp_path: Path) -> Counted:
    return wrapper(tmp_path, "espeak-ng", ESPEAK)


@pytest.fixture
def sox(tmp_path: Path) -> Counted:
    return wrapper(tmp_path, "sox", SOX)


@pytest.fixture
def speech(tmp_path: Path, espeak: Counted, sox: Counted) -> Speech:
    return Speech(tmp_path / "cache", espeak=str(espeak.path), sox=str(sox.path))


def cached_files(speech: Speech) -> list[Path]:
    return sorted(speech.cache_dir.iterdir())


# --- the programs -----------------------------------------------------------------------------


def test_espeak_ng_and_sox_are_installed() -> None:
    """Never skipped: the voice features need them, so their absence fails the suite."""
    assert ESPEAK is not None, "apt-get install espeak-ng"
    assert SOX is not None, "apt-get install sox"


# --- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_code_prompt_renders_to_a_sane_duration(speech: Speech, language: str) -> None:
    pcm = run(speech.render_code("583920", language=language))
    assert len(pcm) % 2 == 0
    # "your verification code is" (~1.8 s), six digits (~0.5 s each), seven 0.2 s pauses.
    assert 4.0 < pcm_duration(pcm) < 10.0
    assert 3000 < peak(pcm) < 32767  # speech, and not clipped


def test_a_short_text_in_each_voice(speech: Speech) -> None:
    english = run(speech.render("Hello"))
    mandarin = run(speech.render("你好"))
    for pcm in (english, mandarin):
        assert 0.3 < pcm_duration(pcm) < 3.0
        assert peak(pcm) > 3000


def test_the_same_text_twice_runs_espeak_once(
    speech: Speech, espeak: Counted, sox: Counted
) -> None:
    first = run(speech.render("Your code is 1, 2, 3"))
    second = run(speech.render("Your code is 1, 2, 3"))
    assert first == second
    assert len(espeak.runs()) == 1
    assert len(sox.runs()) == 1


def test_overlapping_renders_of_one_text_share_one_run(speech: Speech, espeak: Counted) -> None:
    async def twice() -> list[bytes]:
        return list(await asyncio.gather(speech.render("Overlap"), speech.render("Overlap")))

    first, second = run(twice())
    assert first == second
    assert len(espeak.runs()) == 1


async def settle() -> None:
    """Let the tasks started so far reach their first real wait (a subprocess)."""
    for _ in range(10):
        await asyncio.sleep(0)


def test_one_caller_giving_up_does_not_cancel_the_shared_run(
    speech: Speech, espeak: Counted
) -> None:
    async def scenario() -> bytes:
        quitter = asyncio.create_task(speech.render("Shared"))
        stayer = asyncio.create_task(speech.render("Shared"))
        await settle()
        quitter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await quitter
        return await stayer

    assert peak(run(scenario())) > 3000
    assert len(espeak.runs()) == 1


def test_a_run_nobody_waits_for_ends_within_its_timeout_when_the_loop_closes(
    tmp_path: Path,
) -> None:
    """A caller gives up and the loop closes while the program hangs: closing waits for the
    run, which kills and reaps the program at its timeout (nothing hangs, nothing is left)."""
    pid_file = tmp_path / "pid"
    hung = failing(tmp_path, f"echo $$ > {shlex.quote(str(pid_file))}; exec sleep 60")
    speech = Speech(tmp_path / "cache", espeak=hung, timeout=2.0)

    async def scenario() -> None:
        caller = asyncio.create_task(speech.render("Orphan"))
        for _ in range(1000):  # until the program runs (10 s at most)
            if pid_file.exists() and pid_file.read_text().strip():
                break
            await asyncio.sleep(0.01)
        caller.cancel()  # the run goes on, shielded, until the loop closes

    run(scenario())
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_a_code_reuses_its_character_clips(speech: Speech, espeak: Counted) -> None:
    run(speech.render_code("1212", language="en"))
    assert len(espeak.runs()) == 3  # the phrase, "1" and "2"
    run(speech.render_code("2121", language="en"))
    assert len(espeak.runs()) == 3


def test_the_cache_survives_a_new_instance(speech: Speech, espeak: Counted) -> None:
    first = run(speech.render_code("8052", language="zh"))
    runs = len(espeak.runs())
    again = Speech(speech.cache_dir, espeak=str(espeak.path))
    assert run(again.render_code("8052", language="zh")) == first
    assert len(espeak.runs()) == runs


def test_cache_files_are_private_and_named_by_hash(speech: Speech) -> None:
    run(speech.render("Private"))
    assert stat.S_IMODE(speech.cache_dir.stat().st_mode) == 0o700
    (cached,) = cached_files(speech)  # no temporary file left behind
    assert re.fullmatch("[0-9a-f]{64}\\.pcm", cached.name)
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert cached.read_bytes() == run(speech.render("Private"))


def test_voice_and_text_both_make_the_key(speech: Speech, espeak: Counted) -> None:
    run(speech.render("12"))
    run(speech.render("12", language="zh"))
    run(speech.render("12 "))
    assert len(cached_files(speech)) == 3
    assert len(espeak.runs()) == 3


def test_the_memory_cache_is_bounded(tmp_path: Path, espeak: Counted) -> None:
    speech = Speech(tmp_path / "cache", espeak=str(espeak.path), memory_items=2)

    async def scenario() -> None:
        for text in ("one", "two", "three"):
            await speech.render(text)
        for path in speech.cache_dir.iterdir():
            path.unlink()
        await speech.render("three")  # still in memory
        await speech.render("two")  # still in memory
        assert len(espeak.runs()) == 3
        await speech.render("one")  # fell out of memory, and its file is gone
        assert len(espeak.runs()) == 4

    run(scenario())


def test_the_disk_cache_is_bounded(tmp_path: Path, espeak: Counted) -> None:
    long_text = "the third and longest text of all"
    long_size = len(run(Speech(tmp_path / "scratch").render(long_text)))
    speech = Speech(tmp_path / "cache", espeak=str(espeak.path))
    run(speech.render("first"))
    (first,) = cached_files(speech)
    os.utime(first, (1, 1))  # the least recently used
    run(speech.render("second"))
    (second,) = (p for p in cached_files(speech) if p != first)
    os.utime(second, (2, 2))
    speech.disk_bytes = second.stat().st_size + long_size  # room for all but the first
    run(speech.render(long_text))
    remaining = cached_files(speech)
    assert first not in remaining
    assert second in remaining
    assert len(remaining) == 2


def test_the_file_just_written_stays_even_over_the_limit(tmp_path: Path) -> None:
    speech = Speech(tmp_path / "cache", disk_bytes=10)
    run(speech.render("one"))
    run(speech.render("two"))
    assert len(cached_files(speech)) == 1


def test_a_cache_hit_on_disk_makes_a_file_recently_used(speech: Speech, espeak: Counted) -> None:
    run(speech.render("Touched"))
    (cached,) = cached_files(speech)
    os.utime(cached, (1, 1))
    run(Speech(speech.cache_dir, espeak=str(espeak.path)).render("Touched"))
    assert cached.stat().st_mtime > 1_000_000


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    """sox dithers at random unless told not to; a cache must not depend on which run won."""
    texts = [Speech(tmp_path / str(i)).render("Deterministic") for i in range(3)]
    assert len({run(text) for text in texts}) == 1


def test_a_damaged_cache_file_is_rendered_again(speech: Speech, espeak: Counted) -> None:
    good = run(speech.render("Damaged"))
    (cached,) = cached_files(speech)
    cached.write_bytes(b"\x00\x01\x02")  # odd: not 16-bit PCM
    fresh = Speech(speech.cache_dir, espeak=str(espeak.path))
    assert run(fresh.render("Damaged")) == good
    assert len(espeak.runs()) == 2


def test_a_cache_that_cannot_be_written_costs_a_render_not_the_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (name,) = (p.name for p in cached_files(_rendered(tmp_path / "first", "Blocked")))
    speech = Speech(tmp_path / "second")
    (speech.cache_dir / name).mkdir()  # a directory where the file would go
    with caplog.at_level(logging.WARNING, logger="smscloud.carriers.voice.speech"):
        assert peak(run(speech.render("Blocked"))) > 3000
    assert "speech cache" in caplog.text
    assert (speech.cache_dir / name).is_dir()


def _rendered(cache_dir: Path, text: str) -> Speech:
    speech = Speech(cache_dir)
    run(speech.render(text))
    return speech


def test_empty_text_is_silence_without_a_run(speech: Speech, espeak: Counted) -> None:
    assert run(speech.render("")) == b""
    assert run(speech.render("  \n")) == b""
    assert run(speech.render_segments([])) == b""
    assert espeak.runs() == []


def test_segments_are_joined_by_a_pause(speech: Speech) -> None:
    a = run(speech.render("alpha"))
    b = run(speech.render("bravo"))
    both = run(speech.render_segments([Segment(ENGLISH, "alpha"), Segment(ENGLISH, "bravo")]))
    pause = bytes(2 * round(SAMPLE_RATE * PAUSE_SECONDS))
    assert both == a + pause + b
    assert pcm_duration(pause) == pytest.approx(0.2)


def test_text_goes_on_stdin_never_as_an_argument(speech: Speech, espeak: Counted) -> None:
    pcm = run(speech.render("-v xx --help"))  # would be options on the command line
    assert peak(pcm) > 3000
    (arguments,) = espeak.runs()
    assert arguments == "-v en -b 1 --stdout --stdin"


# --- voices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "voice"),
    [
        ("您的验证码是 123456", None, MANDARIN),
        ("Code 123456", None, ENGLISH),
        ("123456", None, ENGLISH),
        ("", None, ENGLISH),
        ("ＡＢＣ，", None, ENGLISH),  # full-width Latin and punctuation are not Han
        ("𠀀", None, MANDARIN),  # CJK Extension B
        ("㐀", None, MANDARIN),  # CJK Extension A
        ("Hello 世界", None, MANDARIN),
        ("您好", "en", ENGLISH),
        ("Hello", "zh", MANDARIN),
        ("Hello", "zh-CN", MANDARIN),
        ("Hello", "zh_Hans", MANDARIN),
        ("Hello", "cmn", MANDARIN),
        ("您好", "en-US", ENGLISH),
        ("您好", " EN ", ENGLISH),
    ],
)
def test_voice_choice(text: str, language: str | None, voice: str) -> None:
    assert choose_voice(text, language) == voice


@pytest.mark.parametrize("language", ["fr", "english", "zhx", "", "yue"])
def test_a_language_without_a_voice(language: str) -> None:
    with pytest.raises(SpeechError, match="no voice"):
        choose_voice("text", language)


def test_render_uses_the_chosen_voice(speech: Speech, espeak: Counted) -> None:
    run(speech.render("您好"))
    run(speech.render("Hello"))
    run(speech.render("Hello", language="zh"))
    voices = [line.split()[1] for line in espeak.runs()]
    assert voices == [MANDARIN, ENGLISH, MANDARIN]


def test_code_prompts() -> None:
    assert code_prompt("4821", "zh") == [
        Segment(PINYIN, "nin2 de5 yan4 zheng4 ma3 shi4"),
        Segment(MANDARIN, "4"),
        Segment(MANDARIN, "8"),
        Segment(MANDARIN, "2"),
        Segment(MANDARIN, "1"),
    ]
    assert code_prompt("a7Z", "en") == [
        Segment(ENGLISH, "Your verification code is"),
        Segment(ENGLISH, "A"),
        Segment(ENGLISH, "7"),
        Segment(ENGLISH, "Z"),
    ]


@pytest.mark.parametrize("code", ["", "12 34", "12-34", "１２", "验证"])
def test_bad_codes(code: str) -> None:
    with pytest.raises(ValueError):
        code_prompt(code, "zh")


def test_a_code_in_an_unknown_language() -> None:
    with pytest.raises(SpeechError):
        code_prompt("1234", "de")


def test_the_pinyin_phrase_is_read_as_mandarin(speech: Speech, espeak: Counted) -> None:
    pcm = run(speech.render_segments(code_prompt("1", "zh")[:1]))
    assert 1.0 < pcm_duration(pcm) < 3.0
    assert espeak.runs() == [f"-v {PINYIN} -b 1 --stdout --stdin"]


# --- digits -----------------------------------------------------------------------------------


def test_separated_digits_are_read_one_by_one_with_pauses(speech: Speech) -> None:
    """What the separators are for, measured: a number is longer than its digits read without
    pauses; with the separator there is a pause between digits."""
    number = pcm_duration(run(speech.render("123456")))
    bare = pcm_duration(run(speech.render("1 2 3 4 5 6")))
    paused = pcm_duration(run(speech.render(read_digits_one_by_one("123456"))))
    assert bare < paused
    assert bare < number


# --- failures ---------------------------------------------------------------------------------


def test_a_missing_espeak_is_a_speech_error(tmp_path: Path) -> None:
    speech = Speech(tmp_path / "cache", espeak=str(tmp_path / "no-such-espeak"))
    with pytest.raises(SpeechError, match=r"cannot run .*no-such-espeak"):
        run(speech.render("Hello"))
    assert cached_files(speech) == []


def test_a_missing_sox_is_a_speech_error(tmp_path: Path) -> None:
    speech = Speech(tmp_path / "cache", sox="no-such-sox-anywhere")
    with pytest.raises(SpeechError, match="cannot run no-such-sox-anywhere"):
        run(speech.render("Hello"))


def test_a_program_that_cannot_be_executed(tmp_path: Path) -> None:
    not_executable = tmp_path / "espeak-ng"
    not_executable.write_text("#!/bin/sh\n")
    speech = Speech(tmp_path / "cache", espeak=str(not_executable))
    with pytest.raises(SpeechError, match="cannot run"):
        run(speech.render("Hello"))


def test_a_failing_espeak_is_a_speech_error_with_its_message(tmp_path: Path) -> None:
    broken = failing(tmp_path, 'echo "voice not found" >&2; exit 2')
    speech = Speech(tmp_path / "cache", espeak=broken)
    with pytest.raises(SpeechError, match="failed with status 2: voice not found"):
        run(speech.render("Hello"))
    assert cached_files(speech) == []


def test_an_unknown_voice_is_a_speech_error(speech: Speech) -> None:
    with pytest.raises(SpeechError, match="status 1: Error: The specified espeak-ng voice"):
        run(speech.render_segments([Segment("nosuchvoice", "Hello")]))


def test_espeak_saying_nothing_is_a_speech_error(tmp_path: Path) -> None:
    speech = Speech(tmp_path / "cache", espeak=failing(tmp_path, "cat > /dev/null"))
    with pytest.raises(SpeechError, match="no audio"):
        run(speech.render("Hello"))


def test_a_hung_espeak_is_killed_after_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hung = failing(tmp_path, f"echo $$ > {shlex.quote(str(pid_file))}; exec sleep 30")
    speech = Speech(tmp_path / "cache", espeak=hung, timeout=2.0)
    with pytest.raises(SpeechError, match=r"took longer than 2\.0 s"):
        run(speech.render("Hello"))
    # On a machine too busy to start the shell within 2 s there is no pid to look for; where
    # there is, the program was killed and reaped.
    if pid_file.exists() and pid_file.read_text().strip():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)


def test_a_failure_is_not_cached(tmp_path: Path, espeak: Counted) -> None:
    broken = Speech(tmp_path / "cache", espeak=failing(tmp_path, "exit 1"))
    with pytest.raises(SpeechError):
        run(broken.render("Retry"))
    working = Speech(tmp_path / "cache", espeak=str(espeak.path))
    assert peak(run(working.render("Retry"))) > 3000


# --- PCM helpers ------------------------------------------------------------------------------


def test_pcm_duration() -> None:
    assert pcm_duration(b"") == 0.0
    assert pcm_duration(bytes(16000)) == 1.0
    assert pcm_duration(bytes(320)) == 0.02


def test_wav_bytes() -> None:
    pcm = le16(0, 1000, -1000, 32767, -32768)
    data = wav_bytes(pcm)
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    with wave.open(BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.readframes(wav.getnframes()) == pcm
