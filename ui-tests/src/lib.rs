//! Compile tests of preheat's macros live in `tests/`.
