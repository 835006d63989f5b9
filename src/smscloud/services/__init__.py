"""Use cases joining domain rules and the store, one subpackage per area: ``accounts/``,
``billing/`` (wallet, usage, orders, ledger, postpaid), ``registry/`` (signatures, templates,
review), ``sending/`` (ACCEPT, SMS, the platform's own SMS), ``metadata/`` (the per-process
cache), and ``tasks``, ``identity``, ``reports``, ``statistics``, ``carrier_setup``,
``notices``."""
