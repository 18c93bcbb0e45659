"""Notifications for the systems around Wattson: signed webhooks and an event stream, fed by a
durable outbox written in the same transaction as the change (docs/webhooks.md)."""
