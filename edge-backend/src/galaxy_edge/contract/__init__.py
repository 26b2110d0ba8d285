"""The packaged copy of the REST contract (data only)."""
