"""Galaxy mail service."""
