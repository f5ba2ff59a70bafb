"""SQLite clip store: clips, ratings, export and import."""
