"""Models: the dialog that downloads, switches and removes them, and the banner
that says when searches use the demo model (or none)."""
