//! The `--json` schema in docs/verifier-explain.md is the output's: `verifier-explain --json`
//! on every fixture prints exactly the documented fields (none missing from the page, none on
//! the page that the tool never prints), each with one of its documented types.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use testkit::binary::Binary;
use testkit::fixture::{object_file, object_path};

/// The field table of the page's "The JSON schema" section: path -> documented types.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let page = include_str!("../../docs/verifier-explain.md");
    let section = page
        .split("## The JSON schema")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/verifier-explain.md has a section \"The JSON schema\"");
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let path = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
            let types = cells.get(1)?.split(" or ").map(str::to_string).collect();
            Some((path.to_string(), types))
        })
        .collect()
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field path of `v` (`a[].b` for the fields of a list's objects) with the types seen.
fn walk(v: &Value, path: &str, seen: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::Object(fields) => {
            for (k, child) in fields {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                seen.entry(p.clone())
                    .or_default()
                    .insert(json_type(child).to_string());
                walk(child, &p, seen);
            }
        }
        Value::Array(items) => {
            for item in items.iter().filter(|i| i.is_object()) {
                walk(item, &format!("{path}[]"), seen);
            }
        }
        _ => {}
    }
}

#[test]
fn the_documented_schema_is_what_json_prints() {
    testkit::privilege::require_bpf();
    let documented = documented();
    assert!(
        documented.len() > 50,
        "the field table was found: {documented:?}"
    );
    let bin = Binary::new(env!("CARGO_BIN_EXE_verifier-explain")).env("NO_COLOR", "1");
    let mut seen = BTreeMap::new();
    for f in fixtures::ALL {
        let obj = object_file(f.name);
        // A bpf-only fixture is rejected (and explained) only as its loader would load it.
        let mut args = vec![object_path(&obj), "--json"];
        if f.privileges == fixtures::Privileges::BpfOnly {
            args.push("--bpf-only");
        }
        let out = bin.run(&args);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: --json printed no JSON ({e}): {}",
                f.name,
                String::from_utf8_lossy(&out.stderr)
            )
        });
        walk(&v, "", &mut seen);
    }
    let mut problems = Vec::new();
    for (path, types) in &seen {
        match documented.get(path) {
            None => problems.push(format!(
                "`{path}` ({types:?}) is printed but not in the page's table"
            )),
            Some(doc) => {
                for t in types.difference(doc) {
                    problems.push(format!("`{path}` is printed as {t}; the page says {doc:?}"));
                }
            }
        }
    }
    for path in documented.keys().filter(|p| !seen.contains_key(*p)) {
        problems.push(format!(
            "`{path}` is in the page's table but no fixture's --json has it"
        ));
    }
    assert!(
        problems.is_empty(),
        "docs/verifier-explain.md, \"The JSON schema\", and the output differ:\n{}",
        problems.join("\n")
    );
}
