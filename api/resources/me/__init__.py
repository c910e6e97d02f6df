"""The signed-in patient's own profile resource."""
