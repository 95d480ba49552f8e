"""Helpers of the export tool (models/export_openclip.py). Needs the ``export`` extra."""
