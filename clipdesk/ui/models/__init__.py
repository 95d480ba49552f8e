"""Models: the dialog that downloads, switches and removes them."""
