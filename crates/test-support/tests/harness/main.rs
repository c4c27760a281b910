//! Tests of the harness itself: services really start, tests are isolated from each other, and
//! everything is cleaned up.

mod postgres;
mod redis;
