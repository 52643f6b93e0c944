"""Reusable widgets: faceplates, symbols."""
