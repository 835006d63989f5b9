"""Storage: tables (``schema``), the group-commit writer and readers (``database``), statements
several layers share (``messages``), Alembic migrations (``migrate``, ``migrations/``)."""
