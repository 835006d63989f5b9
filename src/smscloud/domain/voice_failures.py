"""Why a call was not answered: Tencent's failure codes, and the SIP statuses behind them.

The codes and reasons are those of ``voice_failure_callback.failure_code`` and
``failure_reason`` (Tencent voice messaging: callback API, failure reasons). Which SIP final
response (RFC 3261 §21) means which code is ours to decide, since Tencent documents only the
codes; the mapping is in :data:`SIP_FAILURES`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FAILURES",
    "INTERRUPTED",
    "NO_ANSWER",
    "NUMBER_DOES_NOT_EXIST",
    "OTHER",
    "SIP_FAILURES",
    "SYSTEM_BUSY",
    "UNREACHABLE",
    "USER_BUSY",
    "Failure",
    "failure_for_sip",
]


@dataclass(frozen=True, slots=True)
class Failure:
    """A failure code with its reason in Chinese (as Tencent pushes it) and in English."""

    code: int
    reason: str
    english: str


# fmt: off
FAILURES: dict[int, Failure] = {f.code: f for f in (
    Failure(1, "关机", "powered off"),
    Failure(2, "通话中", "in a call"),
    Failure(3, "不在服务区", "out of service area"),
    Failure(4, "欠费", "in arrears"),
    Failure(5, "无人接听", "no answer"),
    Failure(6, "暂时无法接通", "temporarily unreachable"),
    Failure(7, "停机", "suspended"),
    Failure(8, "空号", "number does not exist"),
    Failure(9, "电路正忙", "circuit busy"),
    Failure(10, "用户正忙", "user busy"),
    Failure(11, "其他", "other"),
    Failure(12, "呼叫受限", "call barred"),
    Failure(13, "暂停服务", "service paused"),
    Failure(15, "号码不存在", "number not found"),
    Failure(16, "来电提醒", "call reminder"),
    Failure(17, "号码已过期", "number expired"),
    Failure(18, "网络忙", "network busy"),
    Failure(19, "未开通语音", "voice not enabled"),
    Failure(20, "无应答", "no response"),
    Failure(22, "系统正忙", "system busy"),
    Failure(23, "加拨零", "zero dialled"),
    Failure(24, "改号", "number changed"),
    Failure(30, "号码有误", "wrong number"),
    Failure(31, "不在使用中", "not in use"),
)}
# fmt: on

NO_ANSWER = FAILURES[5]
UNREACHABLE = FAILURES[6]
NUMBER_DOES_NOT_EXIST = FAILURES[8]
USER_BUSY = FAILURES[10]
OTHER = FAILURES[11]
SYSTEM_BUSY = FAILURES[22]  # the platform could not start the call in time
INTERRUPTED = OTHER  # the worker placing the call died during it

# SIP final responses (RFC 3261 §21.4-21.6) to failure codes. 0 stands for "no final response
# at all" (the INVITE transaction timed out, RFC 3261 §17.1.1.2 Timer B).
SIP_FAILURES: dict[int, Failure] = {
    0: UNREACHABLE,
    404: NUMBER_DOES_NOT_EXIST,  # Not Found
    604: NUMBER_DOES_NOT_EXIST,  # Does Not Exist Anywhere
    410: FAILURES[24],  # Gone: the number changed
    484: FAILURES[30],  # Address Incomplete
    408: NO_ANSWER,  # Request Timeout (also our own no-answer timer)
    480: UNREACHABLE,  # Temporarily Unavailable
    486: USER_BUSY,  # Busy Here
    600: USER_BUSY,  # Busy Everywhere
    603: USER_BUSY,  # Decline: the callee rejected the call
    487: NO_ANSWER,  # Request Terminated: we cancelled a call that rang out
    403: FAILURES[12],  # Forbidden: call barred
    500: FAILURES[9],  # Server Internal Error
    503: FAILURES[9],  # Service Unavailable: circuit busy
}


def failure_for_sip(status: int) -> Failure:
    """The failure a SIP final status (0: no response at all) stands for."""
    return SIP_FAILURES.get(status, OTHER)
