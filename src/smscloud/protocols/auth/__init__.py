"""Request signatures, computed and checked without I/O: TC3-HMAC-SHA256 (``tc3``), API 3.0
signature v1 (``v1``) and the legacy v5 ``sig`` (``v5``)."""
