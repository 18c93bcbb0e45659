"""The operator dashboard at ``/``: server-rendered pages (Jinja2), live through Server-Sent Events
and a small script of our own (``static/dashboard.js``); docs/dashboard.md."""
