"""Notifications to people: e-mail delivery (SMTP or a local outbox) and the message texts
(review results, package and daily-limit alarms, arrears notices)."""
