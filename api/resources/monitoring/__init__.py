"""The monitoring resource."""
