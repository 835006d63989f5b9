"""Money and units: the prepaid wallet (``wallet``: grant, debit, refund), what ACCEPT meters
and limits (``usage``), the package catalogue and orders (``orders``), the ledger, and postpaid
bills (``postpaid``)."""
