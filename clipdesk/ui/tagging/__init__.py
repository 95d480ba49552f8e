"""Auto-tagging: suggestions for dropped photos, teaching a tag from examples,
tagging the whole library."""
