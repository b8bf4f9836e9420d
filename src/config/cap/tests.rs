//! Tests of the cap config tables.
