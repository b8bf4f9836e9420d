//! Unit tests of the pure auth pieces (no real tokens: those are in tests/auth_vectors.rs).
