"""The console's pages, one module per area; each reads and writes through ``services/``."""
