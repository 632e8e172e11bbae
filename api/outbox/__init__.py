"""The transactional outbox: accepted jobs wait in MySQL until Kafka has acknowledged them."""
