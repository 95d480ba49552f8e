"""What happens to photos' files from the app: the system trash, moving to a
folder, showing them in the file manager, exporting copies."""
