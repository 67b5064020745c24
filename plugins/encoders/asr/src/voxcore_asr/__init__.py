"""voxcore plugin: cascade baseline encoders (work in progress)."""
