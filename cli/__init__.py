"""``executioner``: the admin command line (pool status and sizes) over the API's admin endpoints."""
