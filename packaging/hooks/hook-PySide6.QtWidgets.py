# ClipDesk's override of PyInstaller's hook: the same collection, minus the Qt
# plugins and translations that packaging/bundle_contents.py leaves out.
from bundle_contents import lean_qt_hook

hiddenimports, binaries, datas = lean_qt_hook(__file__)
