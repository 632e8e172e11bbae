"""The languages this cluster runs."""
