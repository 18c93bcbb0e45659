"""Operator accounts for the dashboard: email, argon2id password, role, server-side login sessions."""
