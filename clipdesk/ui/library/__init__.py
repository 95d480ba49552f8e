"""The library: the sidebar (folders, tags, saved searches), indexing and its
status, photos that could not be read, and the folder watcher."""
