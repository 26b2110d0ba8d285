"""Mail's tables and the queries on them; nothing here commits (the domain owns the transaction)."""
