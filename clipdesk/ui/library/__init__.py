"""The library: the sidebar (folders, tags, saved searches) and the controller
that keeps it current and watches the folders, indexing and its status, and
the photos that could not be read."""
