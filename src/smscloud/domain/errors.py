"""The one exception type raised by the domain rules."""

from __future__ import annotations

__all__ = ["RuleViolation"]


class RuleViolation(Exception):  # noqa: N818 (name fixed by the shared interface)
    """A rule broken by user input; `code` is a Tencent API 3.0 error code string."""

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        # Passing both to Exception keeps `args` complete, so the error pickles and
        # re-raises across process boundaries (workers) without losing the code.
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
