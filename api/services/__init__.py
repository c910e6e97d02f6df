"""Use cases. Each owns its transaction: it commits, and enqueues work only through rows it commits."""
