"""The server-rendered web console: ``/console`` for tenants, ``/admin`` for operators. A small
core (the app, sessions, CSRF, forms, words) and the pages (``pages/``)."""
