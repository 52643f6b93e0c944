"""Dialogs of the operator interface."""
