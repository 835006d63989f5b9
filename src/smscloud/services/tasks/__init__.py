"""Bulk send tasks: a recipient list checked at upload, then fed to ACCEPT at a steady rate.

A task is a *draft* once uploaded (``upload``): every row is checked and rendered
(``domain.bulk``) and stored, so the tenant confirms exactly what will be sent. Confirmed
(``control``), it is *running* (from its start time on) and the delivery workers feed its
waiting numbers to ACCEPT (``feeding``), ``rate`` a second, in the same transaction that marks
them accepted or refused: a number is sent once, however many workers feed and whenever one
dies. Pacing keeps a large campaign from crowding out the verification codes that arrive
through the API meanwhile.

*Suspend* stops the feeding and holds the task's messages still queued (state HELD) in one
transaction, so nothing more of the task reaches a carrier; *resume* queues them again.
*Cancel* ends the task: waiting numbers are cancelled, held and queued messages are CANCELLED
and their units refunded (``states``). The platform suspends a task itself (``hold_reason``)
when the packages run out or a daily limit is reached, keeping the numbers concerned waiting,
and when the account may no longer send.
"""

from smscloud.services.tasks.control import NOT_FOUND, TaskService
from smscloud.services.tasks.feeding import MAX_FEED, Fed, drop_stale_drafts, due_tasks, feed
from smscloud.services.tasks.upload import DEFAULT_RATE, RATES, Draft

__all__ = [
    "DEFAULT_RATE",
    "MAX_FEED",
    "NOT_FOUND",
    "RATES",
    "Draft",
    "Fed",
    "TaskService",
    "drop_stale_drafts",
    "due_tasks",
    "feed",
]
