"""galaxy_edge."""
