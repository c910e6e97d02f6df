"""The trials resource."""
