"""Judge0 CE 1.13 (``/judge0``) and Piston v2 (``/api/v2``) APIs over the native one (docs/compat.md)."""
