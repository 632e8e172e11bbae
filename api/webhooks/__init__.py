"""Webhooks: a submission's ``callback_url`` called once it finished (docs/webhooks.md)."""
