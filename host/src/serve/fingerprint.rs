//! The Spin component and this host link the same edge crate (the host for body limits, the
//! variables and the events; the component for everything else): they must be one build of it.
//! At start, `serve` asks the component for its build (`GET /healthz`, header
//! `tombstone-build`) and compares it with its own ([`tombstone_edge::BUILD`]: the crate's
//! version and a hash of the sources it was compiled from). On a mismatch it does not start,
//! and says how to rebuild.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;

use super::app::App;

/// What `serve` answers to the component's build (`None`: it named none) against its own.
pub fn verdict(component: Option<&str>, host: &str, path: &Path) -> anyhow::Result<()> {
    match component {
        Some(build) if build == host => Ok(()),
        found => anyhow::bail!(
            "the Spin component at {} was built from other tombstone sources than this host \
             (component: {}; host: {host}); rebuild both from one checkout: \
             `cargo run --release -p xtask -- spin` and `cargo build --release -p tombstone-host` \
             (scripts/run.sh does both)",
            path.display(),
            found.unwrap_or("an older build that does not name one"),
        ),
    }
}

/// Asks the loaded component for its build and holds it to this host's.
pub(super) async fn check(app: &Arc<App>, path: &Path) -> anyhow::Result<()> {
    let req = hyper::Request::get("http://localhost/healthz")
        .header(hyper::header::HOST, "localhost")
        .body(http_body_util::Empty::<Bytes>::new())
        .expect("a valid request");
    let (answer, _events, _after) = app.call(req).await.with_context(|| {
        format!(
            "the Spin component at {} did not answer at start",
            path.display()
        )
    })?;
    let build = answer
        .headers()
        .get(tombstone_edge::BUILD_HEADER)
        .and_then(|v| v.to_str().ok());
    verdict(build, tombstone_edge::BUILD, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_build_passes_and_a_mismatch_says_how_to_rebuild() {
        let path = Path::new("target/wasm/tombstone_spin.wasm");
        assert!(verdict(Some("0.1.0+00ff"), "0.1.0+00ff", path).is_ok());
        for found in [Some("0.1.0+11ee"), Some(""), None] {
            let message = verdict(found, "0.1.0+00ff", path).unwrap_err().to_string();
            assert!(
                message.contains("cargo run --release -p xtask -- spin"),
                "{message}"
            );
            assert!(message.contains("host: 0.1.0+00ff"), "{message}");
            assert!(
                message.contains("target/wasm/tombstone_spin.wasm"),
                "{message}"
            );
        }
    }
}
