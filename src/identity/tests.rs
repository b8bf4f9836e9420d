//! Unit tests of identity header signing.
