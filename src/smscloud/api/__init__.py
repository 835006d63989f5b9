"""The HTTP surfaces: Tencent Cloud API 3.0 (``tc3/``) at ``/``, the legacy v5 API (``v5/``)
under ``/v5/``, health and metrics; ``app.py`` assembles them with the console, and
``body_limit.py`` bounds every request body as it arrives."""
