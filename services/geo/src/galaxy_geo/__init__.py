"""Galaxy geo service."""
