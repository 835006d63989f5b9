"""``smscloud smsc-sim``: the SMPP SMSC simulator on its own, or as ``serve``'s carrier.

``serve`` starts it as ``python -m smscloud.cli.simulator``: this module imports the simulator
and nothing of the platform, so the simulator process stays small (importing the whole
command line costs it ~35 MiB more).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from smscloud.cli.parent import PARENT_ENV, follow_parent
from smscloud.config import load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``smsc-sim`` options."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775, help="0 picks a free port")
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="SYSTEM_ID:PASSWORD",
        help="an account that may bind (repeatable; default SMSCLOUD_SIMULATOR_ACCOUNT,"
        " else smscloud:password)",
    )
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds to the receipt")
    parser.add_argument("--throughput", type=int, default=None, help="submits/s per bind")
    parser.add_argument(
        "--window", type=int, default=None, help="unanswered deliver_sm per session (10)"
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="keep receipts and replies owed here, from before they are promised until they"
        " are acknowledged (survives a crash)",
    )
    parser.add_argument(
        "--listen-fd",
        type=int,
        default=None,
        metavar="FD",
        help="serve on this inherited listening socket instead of --host/--port",
    )
    parser.add_argument(
        "--ready-fd",
        type=int,
        default=None,
        metavar="FD",
        help="write a line to this inherited pipe once serving (for a supervising process)",
    )


def run(args: argparse.Namespace, default_account: str = "") -> int:
    """Run the simulator until stopped; the exit status."""
    from smscloud.carriers.smsc.config import parse_account
    from smscloud.carriers.smsc.runner import JournalError, run_simulator

    follow_parent()
    if os.environ.get(PARENT_ENV):
        # serve's own simulator stands in for a carrier's SMSC, which would have machines
        # of its own: on shared cores it yields to the platform it serves.
        os.nice(10)
    try:
        given = args.account or ([default_account] if default_account else [])
        accounts = dict(parse_account(a) for a in given) or None
    except ValueError as exc:
        print(f"error: --account {exc}", file=sys.stderr)
        return 2
    try:
        run_simulator(
            args.host,
            args.port,
            accounts=accounts,
            receipt_delay=args.receipt_delay,
            throughput=args.throughput,
            window=args.window,
            state_file=args.state_file,
            listen_fd=args.listen_fd,
            ready_fd=args.ready_fd,
        )
    except JournalError as exc:
        print(f"error: --state-file {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m smscloud.cli.simulator [options]``: as ``smscloud smsc-sim``."""
    parser = argparse.ArgumentParser(prog="smscloud smsc-sim", description="SMPP SMSC simulator")
    add_arguments(parser)
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return run(args, settings.simulator_account)


if __name__ == "__main__":
    raise SystemExit(main())
