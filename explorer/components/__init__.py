"""Widgets used by several pages; each is a function `show(key, ...) -> value` that owns its widget state."""
