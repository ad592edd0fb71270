//! Benchmarks; see the binaries in `src/bin/`.
