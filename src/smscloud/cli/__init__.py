"""The ``smscloud`` command: ``serve`` (the whole platform), ``api``, ``worker``, ``smsc-sim``
and the operator's ``admin`` commands (``main``), with the processes they start (``serve``,
``worker``, ``simulator``) and the demo data of a first start (``demo_data``)."""
