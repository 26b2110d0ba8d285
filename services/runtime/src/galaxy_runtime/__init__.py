"""Galaxy runtime service."""
