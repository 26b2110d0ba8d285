"""Galaxy notify service."""
