"""Security events: what stations report (SecurityEventNotification) beside Wattson's own: refused
handshakes, station password and security profile changes, certificate changes."""
