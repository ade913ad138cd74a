//! The ingestion service's behaviour with its ports in memory, in one test binary.

mod deliveries;
mod openapi;
mod relay;
mod service;
mod support;
