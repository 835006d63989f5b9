"""Pure rules, no I/O: phone numbers, text segmentation, templates and signatures, message
states, frequency limits, routing, identity numbers, login and session limits, callback
addresses, billing arithmetic (``billing/``). Nothing here imports the rest of smscloud."""
