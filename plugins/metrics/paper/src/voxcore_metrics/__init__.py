"""voxcore plugin: the paper's metrics (work in progress)."""
