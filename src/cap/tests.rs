//! Unit tests of the cap engine (fake clock, no sleeps).
