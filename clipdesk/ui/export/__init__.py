"""Export…: copies of photos in a folder (originals or resized JPEGs), with progress and a report."""
