"""The call-back requests resource."""
