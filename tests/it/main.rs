//! Integration tests, in one binary so that shared artifacts are built once.

mod conformance;
mod plugin;
mod properties;
