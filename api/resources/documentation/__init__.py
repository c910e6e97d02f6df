"""The pre-trial documentation and readiness resources."""
