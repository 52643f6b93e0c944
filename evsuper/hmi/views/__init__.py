"""Views over the HMI models (item views and their delegates)."""
