//! The playground's static files at `/playground/`, as `spin.toml`'s fileserver component
//! (spin-fileserver, on Spin 4.0.2) serves `www/`: the same statuses (404 `Not Found` for
//! `/playground` itself and for anything missing), content types, `cache-control: max-age=60`,
//! an `etag` of the SHA-256 of the bytes, and 304 for a matching `If-None-Match`. A request path is checked before any file-system call: it is percent-decoded once,
//! and only plain names separated by single `/` pass (no `.` or `..`, no empty segment, so no
//! absolute path, no `\`, no NUL). Only then is the file looked up, and a symbolic link that
//! leads out of `www/` is refused too.

use std::path::{Path, PathBuf};

/// What a path under `/playground` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A file under `www/`, as a relative path of plain names.
    File(PathBuf),
    /// Refused without touching the file system (`/playground` itself too, as Spin's
    /// fileserver does).
    Refused,
}

/// Checks the part of a request path after `/playground`, without any file-system call.
pub fn lookup(rest: &str) -> Lookup {
    let Some(rest) = rest.strip_prefix('/') else {
        return Lookup::Refused;
    };
    // A path segment's escapes (`+` stays `+`), as the edge decodes its own.
    let Some(decoded) = tombstone_edge::http::percent_decode_segment(rest) else {
        return Lookup::Refused;
    };
    let relative = if decoded.is_empty() {
        "index.html"
    } else {
        decoded.as_str()
    };
    let plain = relative.split('/').all(|segment| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && !segment.contains(['\\', '\0'])
            && !segment.contains(':')
    });
    if plain {
        Lookup::File(PathBuf::from(relative))
    } else {
        Lookup::Refused
    }
}

/// The bytes of `relative` (from [`lookup`]) under `www`, if it is a file that is really there:
/// resolving symbolic links must not lead out of `www`.
pub fn read(www: &Path, relative: &Path) -> Option<Vec<u8>> {
    let root = www.canonicalize().ok()?;
    let real = root.join(relative).canonicalize().ok()?;
    if !real.starts_with(&root) || !real.is_file() {
        return None;
    }
    std::fs::read(real).ok()
}

/// The content type of a file name, as Spin's fileserver names it.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// The `etag` Spin's fileserver gives a file: the lowercase hex SHA-256 of its bytes.
pub fn etag(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_pass_before_the_file_system_is_touched() {
        assert_eq!(lookup(""), Lookup::Refused);
        assert_eq!(lookup("/"), Lookup::File("index.html".into()));
        assert_eq!(lookup("/app.js"), Lookup::File("app.js".into()));
        assert_eq!(lookup("/pkg/a%20b.js"), Lookup::File("pkg/a b.js".into()));
        for refused in [
            "x",
            "/..",
            "/../Cargo.toml",
            "/pkg/../../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/%2E%2e/Cargo.toml",
            "/.%2e/Cargo.toml",
            "/%2e%2e%2fCargo.toml",
            "//etc/passwd",
            "/%2fetc/passwd",
            "/pkg//x.js",
            "/./index.html",
            "/..%5cCargo.toml",
            "/a%00.js",
            "/C:/x",
            "/%zz",
            "/%ff",
        ] {
            assert_eq!(lookup(refused), Lookup::Refused, "{refused}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_www_is_refused() {
        let dir = std::env::temp_dir().join(format!("tombstone-www-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let www = dir.join("www");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(dir.join("secret.txt"), b"outside").unwrap();
        std::fs::write(www.join("page.html"), b"inside").unwrap();
        std::os::unix::fs::symlink(dir.join("secret.txt"), www.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(www.join("page.html"), www.join("alias.html")).unwrap();
        assert_eq!(
            read(&www, Path::new("page.html")).as_deref(),
            Some(&b"inside"[..])
        );
        assert_eq!(
            read(&www, Path::new("alias.html")).as_deref(),
            Some(&b"inside"[..])
        );
        assert_eq!(read(&www, Path::new("leak.txt")), None);
        assert_eq!(read(&www, Path::new("missing.txt")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
