//! The layers point one way: api → domain → store → model (docs/ARCHITECTURE.md).
//! This test reads the source and fails on any `crate::…` path (in a `use`
//! or inline) or `super::` path that reaches a module its layer may not use.
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// What each top-level module of `src/` may name with `crate::`. Modules not
/// listed (lib.rs, cli.rs, janitor.rs: the process around the layers) may
/// use anything.
/// `telemetry` is a leaf every layer may record through, as with `tracing`.
const RULES: &[(&str, &[&str])] = &[
    ("model", &["error"]),
    ("store", &["model", "error", "config", "telemetry"]),
    ("domain", &["store", "model", "error", "clock", "telemetry"]),
    (
        "api",
        &[
            "domain",
            "model",
            "auth",
            "error",
            "config",
            "clock",
            "telemetry",
            "traces",
            "heap",
        ],
    ),
    ("telemetry", &[]),
    ("heap", &[]),
    ("traces", &["config"]),
    ("auth", &["model", "error", "config", "clock", "telemetry"]),
    ("error", &[]),
    ("clock", &[]),
    ("config", &["clock"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments, so doc links do not count as imports.
fn code_of(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// First path segments named after `crate::`, including every top-level
/// name inside `crate::{…}` groups.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    found.insert(first_ident(&item));
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            found.insert(first_ident(after));
        }
        rest = after;
    }
    found.retain(|m| !m.is_empty());
    found
}

fn first_ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The layer of a file: the first directory (or file stem) under `src/`.
fn layer_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    Path::new(first)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// `super::` chains deeper than the file's depth inside its layer leave
/// the layer.
fn escapes_with_super(src: &Path, file: &Path, code: &str) -> bool {
    let relative = file.strip_prefix(src).unwrap();
    let mut depth = relative.components().count() - 1;
    if file.file_name().is_some_and(|n| n == "mod.rs") {
        depth -= 1;
    }
    code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .map(|path| path.matches("super::").count())
        .any(|supers| supers > depth)
}

fn violations(src: &Path) -> Vec<String> {
    let mut files = vec![];
    rust_files(src, &mut files);
    let mut found = vec![];
    for file in files {
        let layer = layer_of(src, &file);
        let Some((_, allowed)) = RULES.iter().find(|(name, _)| *name == layer) else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for module in crate_modules(&code) {
            if module != layer && !allowed.contains(&module.as_str()) {
                found.push(format!("{}: {layer} uses crate::{module}", file.display()));
            }
        }
        if escapes_with_super(src, &file, &code) {
            found.push(format!("{}: super:: leaves {layer}", file.display()));
        }
    }
    found
}

#[test]
fn layers_import_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports against the layering:\n{}",
        found.join("\n")
    );
}

/// The scan itself: a store file naming the domain, through a group or a
/// path, and a `super::super::` out of the model, are caught.
#[test]
fn the_scan_sees_groups_paths_and_super_chains() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("store")).unwrap();
    std::fs::create_dir_all(src.join("model/deep")).unwrap();
    std::fs::write(
        src.join("store/a.rs"),
        "use crate::{\n    error::Result,\n    model::{A, b::C},\n    domain::Rule,\n};\n// crate::api in a comment\n",
    )
    .unwrap();
    std::fs::write(src.join("store/b.rs"), "fn f() { crate::api::x(); }\n").unwrap();
    std::fs::write(
        src.join("model/deep/c.rs"),
        "use super::super::super::store::X;\n",
    )
    .unwrap();
    std::fs::write(src.join("model/deep/d.rs"), "use super::super::Y;\n").unwrap();
    let mut found = violations(src);
    found.sort();
    let expected = [
        "model/deep/c.rs: super:: leaves model",
        "store/a.rs: store uses crate::domain",
        "store/b.rs: store uses crate::api",
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (line, want) in found.iter().zip(expected) {
        assert!(line.ends_with(want), "{line} should end with {want}");
    }
}
