"""Connectors to whatever reaches handsets, behind one seam (``base.Carrier``): the SMPP 3.4
connector (``smpp/``), the in-process sandbox (``sandbox``), and the SMSC simulator with its
misbehaving variants (``smsc/``). A connector knows SMPP, not tenants or billing."""
