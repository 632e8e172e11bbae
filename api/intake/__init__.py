"""Job intake: the consumer group on every ``jobs.<language>`` that records jobs batch graders produced
straight to Kafka, so they have a full submission row like jobs sent over HTTP."""
