"""The browser page: an editor that runs programs and shows their results live (``/``, ``/s/{id}``)."""
