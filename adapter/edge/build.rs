//! The build of this crate as a name: its version and a hash of every source it is compiled
//! from (its own and the core's, and the schemas), set as `TOMBSTONE_EDGE_SOURCE_HASH` for
//! [`BUILD`](src/lib.rs). The same sources give the same hash on every target, so the Spin
//! component (wasm32-wasip2) and `tombstone serve` (native), which both link this crate, can
//! tell at start whether they were built from the same code.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Every file under `dir`, sorted, relative to `root`.
fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(root, &path, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(relative.to_path_buf());
        }
    }
}

fn main() {
    let edge = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = edge.join("../..");
    let mut sources = Vec::new();
    for dir in ["adapter/edge/src", "adapter/core/src", "schemas"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
        files(&root, &root.join(dir), &mut sources);
    }
    for file in [
        "adapter/edge/Cargo.toml",
        "adapter/core/Cargo.toml",
        "adapter/core/build.rs",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
        sources.push(PathBuf::from(file));
    }
    sources.sort();
    let mut hash = Sha256::new();
    for source in &sources {
        let bytes = std::fs::read(root.join(source)).unwrap_or_default();
        // Each file's name and length before its bytes: no two file sets hash alike.
        hash.update(source.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    let digest = hash.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=TOMBSTONE_EDGE_SOURCE_HASH={hex}");
}
