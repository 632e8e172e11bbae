"""Judge0 CE 1.13.1 under ``/judge0``."""
