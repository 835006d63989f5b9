"""What the send path consults on every request, cached per process: keys, applications,
templates, signatures (``cache``), as immutable records (``records``)."""
