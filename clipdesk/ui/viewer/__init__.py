"""Looking at photos: the zoomable picture, the full-screen viewer, and how a
photo is loaded for them (the same decode path as indexing; the cached
thumbnail, with a note, when the file cannot be read)."""
