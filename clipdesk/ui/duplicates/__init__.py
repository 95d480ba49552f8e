"""The duplicates view: groups of copies side by side, the copy to keep, the others to the trash."""
