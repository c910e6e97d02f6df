"""The evaluations resource."""
