"""Pieces every API feature uses: JSON responses, the error shape, time conversions."""
