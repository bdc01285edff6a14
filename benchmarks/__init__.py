"""Side-by-side benchmarks (not tests): see benchmarks/README.md."""
