"""The patients resource."""
