"""The photos: the thumbnail grid, its list model and tile loader, the controller
that shows answers in it, the preview window, the details panel, and what the
user can do to the photos shown."""
