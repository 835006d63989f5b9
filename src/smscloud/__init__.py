"""smscloud: a self-hosted SMS cloud."""
