"""galaxy_kit."""
