"""``serve`` runs its SMPP simulator as ``python -m smscloud.cli.simulator``: the simulator
without the platform, so the process that stands in for a carrier stays small."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from smscloud.cli import simulator
from smscloud.cli.serve import simulator_args
from tests.conftest import make_settings


def test_the_simulator_entry_loads_no_platform_code() -> None:
    probe = (
        "import sys, smscloud.cli.simulator as s, argparse;"
        " s.add_arguments(argparse.ArgumentParser());"
        " from smscloud.carriers.smsc import runner;"
        " print(sorted(m for m in ('sqlalchemy', 'starlette', 'argon2', 'smscloud.platform')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serve_hands_the_simulator_options_it_reads(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite:///x.db", simulator_rate=50)
    parser = argparse.ArgumentParser()
    simulator.add_arguments(parser)
    args = parser.parse_args(simulator_args(settings, 7))
    assert (args.listen_fd, args.throughput) == (7, 50)
    assert args.state_file == settings.data_dir / "smsc-sim.state"
