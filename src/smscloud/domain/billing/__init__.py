"""Postpaid billing: money, price tables, bill months, bills and bill documents (no I/O)."""
