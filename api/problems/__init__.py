"""Stored problems (issue 18): ``/api/v1/problems``, their versions, the test store, stubs, rejudges."""
