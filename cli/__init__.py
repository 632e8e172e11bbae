"""``executioner``: the command line: pool status and sizes over the API's admin endpoints, and batch
grading (``executioner grade``)."""
