"""voxcore plugin: datasets of the paper (work in progress)."""
