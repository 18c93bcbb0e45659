"""Direct (ad hoc) payment: products, providers, the payment state machine and its worker, the
driver API (seed 000) and the operator API. See docs/payments.md."""
