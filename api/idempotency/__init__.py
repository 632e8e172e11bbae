"""Idempotency keys of ``POST /api/v1/submissions`` (the IETF httpapi ``Idempotency-Key`` draft): a client
that retries a POST with the same key gets the submission its first attempt created, never a second one."""
