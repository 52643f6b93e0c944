"""The Qt operator interface: the only package that imports PySide6."""
