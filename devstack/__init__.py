"""The local development stack: installs and starts what Executioner needs on one machine (Docker engine,
MariaDB, Apache Kafka, the worker images) and runs the API and master for ``make up``.

It drives the other packages as processes and containers; it never imports them.
"""
