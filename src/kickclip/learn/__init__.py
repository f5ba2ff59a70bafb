"""Ratings → models of the user's taste (scikit-learn, imported lazily)."""
