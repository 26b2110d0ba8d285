"""Galaxy auth service."""
