"""``python -m smscloud.carriers.smsc [--port N] [--account ID:PASSWORD]...``"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .runner import run_simulator


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smsc-sim", description="SMPP 3.4 SMSC simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775, help="0 picks a free port")
    parser.add_argument("--account", action="append", metavar="ID:PASSWORD", default=[])
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds")
    parser.add_argument("--submit-latency", type=float, default=0.0, help="seconds")
    parser.add_argument("--throughput", type=int, default=None, help="submits/s per bind")
    args = parser.parse_args(argv)
    accounts = dict(a.split(":", 1) for a in args.account) if args.account else None
    run_simulator(
        args.host,
        args.port,
        accounts=accounts,
        receipt_delay=args.receipt_delay,
        submit_latency=args.submit_latency,
        throughput=args.throughput,
    )


if __name__ == "__main__":
    main()
