"""Galaxy lobby service."""
