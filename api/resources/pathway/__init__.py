"""A patient's diagnostic block pathway."""
