"""Live results: one group-less Kafka consumer per replica fans result events out to SSE streams."""
