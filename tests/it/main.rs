//! Integration tests, in one binary so that shared artifacts are built once.

mod conformance;
mod docs;
mod fast_path;
mod mutations;
mod plugin;
mod properties;
mod structure;
