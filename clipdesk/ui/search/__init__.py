"""Searching: the search bar and its filter chips, the line under them (one
panel), and the controller that runs each typed query on a worker (newest wins)."""
