"""Site load management (issue 18): circuits with their limits, the unmanaged load on them, the
allocation of what is left to the sessions charging there, and the charging profiles that enforce it
(docs/smart-charging.md)."""
