"""The decision resource."""
