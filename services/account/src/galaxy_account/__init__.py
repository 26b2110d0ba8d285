"""Galaxy account service."""
