"""The clinic profile resource."""
