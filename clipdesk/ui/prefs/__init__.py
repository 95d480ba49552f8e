"""Preferences: every setting of :mod:`clipdesk.ui.settings`, edited in one dialog
that its declarations drive."""
