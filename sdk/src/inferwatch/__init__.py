"""inferwatch SDK."""
