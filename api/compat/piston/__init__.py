"""Piston v2 under ``/api/v2``."""
