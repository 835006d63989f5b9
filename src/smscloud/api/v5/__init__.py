"""The legacy v5 API: SMS under ``/v5/tlssmssvr/``: commands (``routes``), typed bodies
(``params``), signature and template management (``registry``), numeric result codes
(``codes``); voice under ``/v5/tlsvoicesvr/`` (``voice``, its own commands and codes).

Commands register themselves with ``routes.command`` when their module is imported; importing
both here means whoever imports any part of the v5 API gets every command.
"""

from smscloud.api.v5 import registry, routes  # noqa: F401 (imported to register the commands)
