//! End-to-end tests: the real cutover binary (and, for the embedded adapter,
//! the library in-process) on port 0, with real HTTP upstreams on port 0
//! standing in for next and rust.

mod check;
mod embedded;
mod failures;
mod routing;
mod streams;
mod support;
