//! The documentation stands alone: every relative link in the README and in `docs/` names a file
//! of the repository, and every `#anchor` a heading of the page it points to; no page cites a
//! document outside the repository.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The pages: the README, the CHANGELOG and every Markdown file of `docs/`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// Markdown's inline links `[text](target)` outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Code spans hold no links.
        let mut plain = String::new();
        for (n, part) in line.split('`').enumerate() {
            if n % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            links.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    links
}

/// GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            !in_code && line.starts_with('#')
        })
        .map(|line| anchor(line.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_relative_link_of_the_readme_and_the_docs_resolves() {
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            assert!(target.exists(), "{}: {link} names no file", page.display());
            if !fragment.is_empty() {
                let there = std::fs::read_to_string(&target).unwrap();
                assert!(
                    anchors(&there).contains(&fragment.to_owned()),
                    "{}: {link} names no heading of {}",
                    page.display(),
                    target.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} links");
}

#[test]
fn the_readme_is_read_in_five_minutes_and_no_page_cites_a_document_outside() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 200, "README.md is {lines} lines");
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(!text.contains("SPEC §"), "{} cites SPEC", page.display());
        assert!(
            !text.contains("../shared"),
            "{} cites ../shared",
            page.display()
        );
    }
}

#[test]
fn anchors_are_githubs() {
    assert_eq!(
        anchor(" Every deletion delivered: relay mode's queue"),
        "every-deletion-delivered-relay-modes-queue"
    );
    assert_eq!(anchor("The API: `openapi.json`"), "the-api-openapijson");
    assert_eq!(
        links("a [b](c.md#d) `[x](y)` [e](https://f)"),
        ["c.md#d", "https://f"]
    );
}
