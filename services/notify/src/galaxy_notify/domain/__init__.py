"""Notify's domain rules (one transaction per operation)."""
