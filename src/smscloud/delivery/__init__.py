"""The loops that move messages after ACCEPT: the dispatcher (claims, submits, receipts,
replies, health), callback pushers (``callbacks/``), the bulk-task feeder, the notifier, and
the statements each loop runs on a batch."""
