"""Dead letters: the consumer group on ``dead-letter`` that records every rejected message in MySQL, for
the admin API (counts per pool, the newest with their reasons)."""
