"""Tenants, operators and API keys (``tenants``), applications, console users, passwords,
log-in limits, console sessions and the operators' audit log."""
