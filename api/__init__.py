"""The HTTP API process: accepts submissions (MySQL row + outbox in one transaction), relays the outbox
to Kafka, records results in MySQL and streams them to browsers over SSE.

Entry points: :func:`api.app.create_app` (the ASGI app) and ``executioner-api`` (:mod:`api.__main__`).
"""
