//! The crate's layers import only the layers below them: parse (`log`), the program's model
//! (`debuginfo`), the facts of a rejection (`evidence`), the error classes (`catalogue`), the
//! explanation (`explain`), whole reports (`report`), then `render` and the explorer's `view`.
//! A `crate::` path from a layer to one above it fails this test. Test modules (from the first
//! `#[cfg(test)]` of a file on) may reach any layer.

use std::path::Path;

/// Bottom first.
const LAYERS: &[&str] = &[
    "log",
    "debuginfo",
    "evidence",
    "catalogue",
    "explain",
    "report",
    "render",
    "view",
];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

/// The layer a source file belongs to: its folder, or its own name for a one-file layer.
fn layer_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    Some(first.trim_end_matches(".rs").to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every layer a file's non-test code names through `crate::` (in `use` lines and paths).
fn layers_named(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut named = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            named.push(rest[..end].to_string());
        }
    }
    named
}

#[test]
fn layers_import_only_the_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in &files {
        let Some(layer) = layer_of(&src, file) else {
            continue;
        };
        let Some(own) = rank(&layer) else {
            // lib.rs and main.rs sit on top of every layer.
            assert!(
                layer == "lib" || layer == "main",
                "{} is in no layer: add its layer to LAYERS",
                file.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a source file");
        for named in layers_named(&text) {
            checked += 1;
            match rank(&named) {
                Some(r) if r <= own => {}
                Some(_) => wrong.push(format!(
                    "{} ({layer}) imports crate::{named}, a layer above it",
                    file.strip_prefix(&src).unwrap_or(file).display()
                )),
                // Items of lib.rs (the crate's own re-exports) belong to the top.
                None => wrong.push(format!(
                    "{} ({layer}) imports crate::{named}, which is not a layer",
                    file.strip_prefix(&src).unwrap_or(file).display()
                )),
            }
        }
    }
    assert!(checked > 20, "only {checked} crate:: paths found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_path_to_a_higher_layer_is_caught() {
    let text =
        "use crate::log::LogSummary;\nuse crate::report::Report;\n#[cfg(test)]\nuse crate::view;";
    assert_eq!(layers_named(text), ["log", "report"]);
}
