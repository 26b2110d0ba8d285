"""Root pytest configuration: real-infrastructure fixtures shared by every test tier."""

pytest_plugins = ["galaxy_devstack.testing"]
