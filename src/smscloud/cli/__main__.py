"""``python -m smscloud.cli ...``: the ``smscloud`` command."""

from smscloud.cli.main import main

raise SystemExit(main())
