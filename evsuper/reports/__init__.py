"""Exports and reports: tables to CSV and Excel (``tables``). No Qt."""
