"""The entries resource."""
