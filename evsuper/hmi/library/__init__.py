"""The object library: pre-animated charger and site objects (docs/object_library.md).

Views (``charger``, ``equipment``) are frozen dataclasses painted by ``base.paint_object``
at three sizes; ``widget.LibraryObject`` is the paint-only widget, ``bound`` its live
subclasses; ``glyphs`` and ``alarm_glyph`` are the symbols shared with the overview.
"""
