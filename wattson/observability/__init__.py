"""What a running Wattson tells its operators: metrics (``/metrics``), readiness
(``/health/ready``) and log lines (text or JSON). docs/operations.md describes all three."""
