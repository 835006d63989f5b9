"""Tenants, users, operators, API keys and applications (``tenants``); passwords, log-in
limits, console sessions and the operators' audit log."""
