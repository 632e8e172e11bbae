"""Admin API: worker pools per language (sizes, autoscaling bounds, what the master observed)."""
