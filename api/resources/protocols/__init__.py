"""The published protocol parameters of every therapy."""
