"""The Executioner worker: runs inside one language's container, consumes ``jobs.<language>`` and runs each
job in a pool of processes, publishing live events and the outcome to ``results``."""
