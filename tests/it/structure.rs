//! The house stays readable: no file of a crate imports, directly or through others, a file that
//! imports it back; the shared value types sit below the features that use them; and the API
//! document's functions stay short.
//!
//! An import is any path that starts at the crate or a module (`crate::…`, `super::…`,
//! `self::…`), in a `use` or in code, resolved to the file of the deepest module it names (an
//! item re-exported by a `mod.rs` counts as that `mod.rs`'s). `mod x;` declares a child and is
//! not an import. A file's `#[cfg(test)] mod tests` is not read: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The crates whose source files are checked, each by its `src/` folder.
const CRATES: [&str; 6] = [
    "adapter/core/src",
    "adapter/edge/src",
    "adapter/plugin/src",
    "adapter/spin/src",
    "adapter/web/src",
    "host/src",
];

/// A crate's files by module path (`[]` the root, `["fast", "walk"]` `fast/walk.rs`).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut found = BTreeMap::new();
    let mut todo = vec![src.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap();
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
                .collect();
            match parts.last().map(String::as_str) {
                Some("lib" | "main") if parts.len() == 1 => parts.clear(),
                Some("mod") => {
                    parts.pop();
                }
                _ => {}
            }
            // A binary's root shares the library's module path only when there is no library.
            if parts.is_empty() && found.contains_key(&parts) {
                continue;
            }
            found.insert(parts, path);
        }
    }
    found
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        let without_comment = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(without_comment);
        out.push('\n');
    }
    in_file_module(&out)
}

/// The code with every `super::` inside an inline `mod x { … }` said from the file's module:
/// `super` of an inline module is the file itself (`self`). String and character literals are
/// skipped, so that their braces do not count.
fn in_file_module(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let text = |at: usize, word: &str| {
        word.chars()
            .enumerate()
            .all(|(n, c)| chars.get(at + n) == Some(&c))
    };
    let mut out = String::with_capacity(code.len());
    let (mut depth, mut inline) = (0usize, Vec::<usize>::new());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let word_start = i == 0 || !(ident_char(chars[i - 1]) || chars[i - 1] == ':');
        if c == '"' || (c == 'r' && word_start && (text(i + 1, "\"") || text(i + 1, "#"))) {
            // A string: up to its closing quote (and hashes, for a raw one).
            let raw = c == 'r';
            let hashes = if raw {
                chars[i + 1..].iter().take_while(|c| **c == '#').count()
            } else {
                0
            };
            let mut j = i + 1 + hashes + usize::from(raw);
            while j < chars.len() {
                if !raw && chars[j] == '\\' {
                    j += 2;
                    continue;
                }
                if chars[j] == '"' && chars[j + 1..].iter().take(hashes).all(|c| *c == '#') {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(&chars[i..j.min(chars.len())]);
            i = j;
            continue;
        }
        if c == '\'' {
            // A character literal (`'{'`, `'\''`), not a lifetime.
            let len = if chars.get(i + 1) == Some(&'\\') {
                4
            } else {
                3
            };
            if chars.get(i + len - 1) == Some(&'\'') {
                out.extend(&chars[i..i + len]);
                i += len;
                continue;
            }
        }
        if word_start && text(i, "mod ") {
            let mut j = i + 4;
            while chars
                .get(j)
                .is_some_and(|c| ident_char(*c) || c.is_whitespace())
            {
                j += 1;
            }
            if chars.get(j) == Some(&'{') {
                inline.push(depth + 1);
            }
        }
        if word_start && !inline.is_empty() && text(i, "super::") {
            let mut k = 0;
            while text(i + 7 * k, "super::") {
                k += 1;
            }
            let up = k.saturating_sub(inline.len());
            out.push_str(if up == 0 { "self::" } else { "" });
            out.push_str(&"super::".repeat(up));
            i += 7 * k;
            continue;
        }
        match c {
            '{' => depth += 1,
            '}' => {
                if inline.last() == Some(&depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Every path a `use` tree names: `a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len() - 1];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(expand)
        .map(|p| format!("{prefix}{p}"))
        .collect()
}

/// Whether `c` may be part of an identifier.
fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths (`a::b::c`) a file's code names: each `use` tree expanded, then every path in the
/// rest of the code. Which of them are the crate's own is [`resolve`]'s to say.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = String::with_capacity(code.len());
    let mut text = code;
    while let Some(at) = text.find("use ") {
        let starts_word = !text[..at].chars().last().is_some_and(ident_char);
        rest.push_str(&text[..at]);
        let Some(end) = text[at..].find(';').filter(|_| starts_word) else {
            rest.push_str("use ");
            text = &text[at + 4..];
            continue;
        };
        found.extend(expand(&text[at + 4..at + end]));
        text = &text[at + end + 1..];
    }
    rest.push_str(text);
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = ident_char(chars[i])
            && !chars[i].is_ascii_digit()
            && (i == 0 || !(ident_char(chars[i - 1]) || chars[i - 1] == ':'));
        if !starts {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        loop {
            while end < chars.len() && ident_char(chars[end]) {
                end += 1;
            }
            let more = chars.get(end) == Some(&':')
                && chars.get(end + 1) == Some(&':')
                && chars.get(end + 2).is_some_and(|c| ident_char(*c));
            if !more {
                break;
            }
            end += 2;
        }
        let path: String = chars[start..end].iter().collect();
        if path.contains("::") {
            found.push(path);
        }
        i = end.max(i + 1);
    }
    found
}

/// The file a path names, from the file whose module is `module`: the deepest module file the
/// path goes through. `None` for a path that does not start in the crate (`std::…`, another
/// crate, a type's associated item).
fn resolve(
    path: &str,
    module: &[String],
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<PathBuf> {
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    let first = *segments.peek()?;
    let mut at: Vec<String> = match first {
        "crate" | "$crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => module[..module.len().checked_sub(1)?].to_vec(),
        child => {
            // A path relative to this module: only a child module of it is the crate's own.
            let mut below = module.to_vec();
            below.push(child.to_owned());
            if !files.contains_key(&below) {
                return None;
            }
            module.to_vec()
        }
    };
    if matches!(first, "crate" | "$crate" | "self" | "super") {
        segments.next();
    }
    for segment in segments {
        match segment {
            "super" => {
                at.pop();
            }
            "self" | "*" => {}
            name => {
                let mut deeper = at.clone();
                deeper.push(name.to_owned());
                if files.contains_key(&deeper) {
                    at = deeper;
                } else {
                    break;
                }
            }
        }
    }
    files.get(&at).cloned()
}

/// Each file of a crate and the files it imports.
fn imports(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files = modules(src);
    let mut graph = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let targets: BTreeSet<PathBuf> = paths(&code(&text))
            .iter()
            .filter_map(|p| resolve(p, module, &files))
            .filter(|target| target != path)
            .collect();
        graph.insert(path.clone(), targets);
    }
    graph
}

/// The groups of files that import one another (strongly connected, more than one file).
fn circles(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    let reach = |from: &PathBuf| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(file) = todo.pop() {
            for next in graph.get(&file).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&PathBuf, BTreeSet<PathBuf>> =
        graph.keys().map(|file| (file, reach(file))).collect();
    let mut circles: Vec<Vec<PathBuf>> = Vec::new();
    for (file, reached) in &reaches {
        if !reached.contains(*file) || circles.iter().any(|c| c.contains(file)) {
            continue;
        }
        let circle: Vec<PathBuf> = reached
            .iter()
            .filter(|other| reaches[other].contains(*file))
            .cloned()
            .collect();
        circles.push(circle);
    }
    circles
}

fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let mut found = Vec::new();
    for krate in CRATES {
        let graph = imports(&root().join(krate));
        for circle in circles(&graph) {
            let mut text = String::from("a circle of:");
            for file in &circle {
                for target in graph[file].iter().filter(|t| circle.contains(t)) {
                    text.push_str(&format!("\n  {} -> {}", shown(file), shown(target)));
                }
            }
            found.push(text);
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_shared_value_types_import_none_of_the_features() {
    // Folders (or files) of a crate whose files may import only one another.
    let bottoms = [
        ("adapter/edge/src", "model"),
        ("adapter/core/src", "fast/tables.rs"),
        ("adapter/core/src", "warning.rs"),
    ];
    for (krate, bottom) in bottoms {
        let src = root().join(krate);
        let inside = |path: &Path| path.starts_with(src.join(bottom));
        for (file, targets) in imports(&src) {
            if !inside(&file) {
                continue;
            }
            if let Some(target) = targets.iter().find(|t| !inside(t)) {
                panic!("{} imports {}", shown(&file), shown(target));
            }
        }
    }
}

#[test]
fn the_source_specs_import_no_source() {
    let src = root().join("adapter/core/src");
    let graph = imports(&src);
    let spec = src.join("sources/spec.rs");
    let sources = src.join("sources");
    for target in &graph[&spec] {
        assert!(
            !target.starts_with(&sources),
            "sources/spec.rs imports {}",
            shown(target)
        );
    }
}

/// Every function of a file and its length in lines (as rustfmt lays it out: the body closes at
/// the signature's indentation).
fn function_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let signature = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "const fn ",
        ]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p));
        let Some(rest) = signature else { continue };
        let name = rest.split(['(', '<']).next().unwrap_or_default().to_owned();
        let indent = line.len() - trimmed.len();
        let close = format!("{}}}", " ".repeat(indent));
        if let Some(end) = lines[i..].iter().position(|l| *l == close) {
            found.push((name, end + 1));
        }
    }
    found
}

#[test]
fn the_api_document_and_the_route_table_have_no_function_over_80_lines() {
    for file in ["adapter/edge/src/openapi.rs", "adapter/edge/src/routes.rs"] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        for (name, length) in function_lengths(&text) {
            assert!(length <= 80, "{file}: {name} is {length} lines");
        }
    }
}

#[test]
fn the_checks_see_what_they_look_for() {
    // A circle, a `use` tree and a path in code are found.
    assert_eq!(
        expand("crate::{a, b::{c, d}}"),
        ["crate::a", "crate::b::c", "crate::b::d"]
    );
    let found = paths("use super::{x, y::Z};\nfn f() { crate::q::r(); $crate::s(); t.u(); }\n");
    assert_eq!(
        found,
        ["super::x", "super::y::Z", "crate::q::r", "crate::s"]
    );
    let files = BTreeMap::from([
        (vec![], PathBuf::from("lib.rs")),
        (vec!["a".to_owned()], PathBuf::from("a/mod.rs")),
        (
            vec!["a".to_owned(), "b".to_owned()],
            PathBuf::from("a/b.rs"),
        ),
    ]);
    let a = ["a".to_owned()];
    assert_eq!(
        resolve("b::Thing", &a, &files),
        Some(PathBuf::from("a/b.rs"))
    );
    assert_eq!(
        resolve("super::Root", &a, &files),
        Some(PathBuf::from("lib.rs"))
    );
    assert_eq!(
        resolve("crate::a::b::f", &[], &files),
        Some(PathBuf::from("a/b.rs"))
    );
    assert_eq!(resolve("std::fmt", &a, &files), None);
    let graph = BTreeMap::from([
        (PathBuf::from("a"), BTreeSet::from([PathBuf::from("b")])),
        (PathBuf::from("b"), BTreeSet::from([PathBuf::from("a")])),
        (PathBuf::from("c"), BTreeSet::from([PathBuf::from("a")])),
    ]);
    assert_eq!(
        circles(&graph),
        [vec![PathBuf::from("a"), PathBuf::from("b")]]
    );
    assert_eq!(
        code("use a;\n// use b;\n#[cfg(test)]\nmod tests {\nuse c;\n}\n"),
        "use a;\n\n"
    );
    assert_eq!(
        in_file_module("mod b { f(super::X, '{', \"}\"); }\nsuper::Y; mod c { mod d { super::super::super::Z } }"),
        "mod b { f(self::X, '{', \"}\"); }\nsuper::Y; mod c { mod d { super::Z } }"
    );
    let lengths = function_lengths("fn f() {\n    1\n}\n    pub fn g() {\n    }\n");
    assert_eq!(lengths, [("f".to_owned(), 3), ("g".to_owned(), 2)]);
}
