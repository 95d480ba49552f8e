"""ClipDesk: a desktop photo organizer with local semantic search."""

__version__ = "0.1.0"
