"""galaxy_devstack."""
