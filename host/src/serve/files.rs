//! The playground's static files at `/playground/`, as `spin.toml`'s fileserver component serves
//! `www/`. A request path is checked before any file-system call: it is percent-decoded once,
//! and only plain names separated by single `/` pass (no `.` or `..`, no empty segment, so no
//! absolute path, no `\`, no NUL). Only then is the file looked up, and a symbolic link that
//! leads out of `www/` is refused too.

use std::path::{Path, PathBuf};

/// What a path under `/playground` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// `/playground` itself: redirect to `/playground/` so the page's relative URLs resolve.
    Redirect,
    /// A file under `www/`, as a relative path of plain names.
    File(PathBuf),
    /// Refused without touching the file system.
    Refused,
}

/// Decodes `%XX` escapes of a path (`+` stays `+`); `None` when an escape is broken or the
/// result is not UTF-8.
fn percent_decode_path(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Checks the part of a request path after `/playground`, without any file-system call.
pub fn lookup(rest: &str) -> Lookup {
    if rest.is_empty() {
        return Lookup::Redirect;
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return Lookup::Refused;
    };
    let Some(decoded) = percent_decode_path(rest) else {
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

/// The content type of a file name.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_pass_before_the_file_system_is_touched() {
        assert_eq!(lookup(""), Lookup::Redirect);
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
