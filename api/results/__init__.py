"""Recording results: the consumer group that writes every result event to MySQL, idempotently."""
