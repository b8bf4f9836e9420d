//! Unit tests of `[auth]` parsing.
