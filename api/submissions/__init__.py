"""Submissions: accept (``POST``), look up (``GET``)."""
