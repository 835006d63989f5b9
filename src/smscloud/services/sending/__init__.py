"""Sending: ``sms`` validates SendSms and SendMultiGlobalSms, ``accept`` is the one transaction
that makes a send durable and billed, ``platform_sms`` queues the platform's own SMS."""
