//! The verifier error catalogue: one page per class of `verifier-explain`'s catalogue, and an
//! index, made at run time from the catalogue itself ([`verifier_explain::classes`]), the
//! classifier's rules (read from `classes.rs`), the fixture that shows the class (its
//! `// explains:` header) and what `verifier-explain` really prints for that fixture on this
//! kernel. Nothing here lists the classes: a class added to the catalogue gets its page.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use verifier_explain::{Category, ClassInfo};

use crate::output::Generated;
use crate::tools::Tools;

/// Where the classifier's rules are, from the repository's root.
const CLASSES_RS: &str = "verifier-explain/src/catalogue/classes.rs";

/// The pages, the index, the lines of `docs/SUMMARY.md` that list them, and the classes that
/// have no fixture (which the check reports).
pub struct Catalogue {
    /// `docs/catalogue/README.md` and one page per class.
    pub files: Vec<Generated>,
    /// The list of pages for `docs/SUMMARY.md`, relative to `docs/`.
    pub summary: String,
    /// Classes without a fixture, the catch-all class excepted.
    pub without_fixture: Vec<&'static str>,
}

/// One class with what its page shows.
struct Page {
    class: ClassInfo,
    fixture: Option<&'static fixtures::Fixture>,
    /// `matches: ...` as written in `classes.rs`, and the string constants it uses.
    rule: Option<String>,
    /// What `verifier-explain` printed for the fixture (paths relative to the repository).
    printed: Option<String>,
}

/// Generates the catalogue's pages, running `verifier-explain` on every class's fixture.
pub fn generate(root: &Path, tools: &Tools) -> anyhow::Result<Catalogue> {
    let rules_source = std::fs::read_to_string(root.join(CLASSES_RS))
        .with_context(|| format!("reading {CLASSES_RS}"))?;
    let objects = tempfile::tempdir().context("creating a directory for the fixtures' objects")?;
    let classes: Vec<ClassInfo> = verifier_explain::classes().collect();
    let catch_all = classes.last().map(|c| c.id);
    let mut pages = Vec::new();
    for class in classes {
        // A class with a fixture per shape shows the one named after it.
        let own = class.id.replace('-', "_");
        let explaining = || {
            fixtures::ALL
                .iter()
                .filter(|f| f.explains == Some(class.id))
        };
        let fixture = explaining()
            .find(|f| f.name == own)
            .or_else(|| explaining().next());
        let printed = fixture
            .map(|f| explain_fixture(tools, f, objects.path()))
            .transpose()?;
        pages.push(Page {
            class,
            fixture,
            rule: rule_of(&rules_source, class.id),
            printed,
        });
    }
    let without_fixture = pages
        .iter()
        .filter(|p| p.fixture.is_none() && Some(p.class.id) != catch_all)
        .map(|p| p.class.id)
        .collect();
    let mut files = vec![Generated::exact(
        "docs/catalogue/README.md",
        index(&pages, catch_all),
    )];
    for p in &pages {
        files.push(Generated::exact(
            format!("docs/catalogue/{}.md", p.class.id),
            page(p, Some(p.class.id) == catch_all),
        ));
    }
    let mut summary = String::from("- [The verifier error catalogue](catalogue/README.md)\n");
    for p in &pages {
        let _ = writeln!(summary, "  - [{}](catalogue/{}.md)", p.class.id, p.class.id);
    }
    Ok(Catalogue {
        files,
        summary,
        without_fixture,
    })
}

/// Runs `verifier-explain` on the fixture's object, as a user would, without color; paths
/// are made relative to the repository and kernel addresses replaced (they change on every
/// load).
fn explain_fixture(tools: &Tools, f: &fixtures::Fixture, dir: &Path) -> anyhow::Result<String> {
    let object = dir.join(format!("{}.bpf.o", f.name));
    std::fs::write(&object, f.object).with_context(|| format!("writing {}", object.display()))?;
    let object = object.to_string_lossy().into_owned();
    let mut args = vec![object.as_str()];
    if f.privileges == fixtures::Privileges::BpfOnly {
        args.push("--bpf-only");
    }
    // 0: accepted (a class an older or unprivileged verifier reports), 1: rejected.
    let printed = tools.run("verifier-explain", &args, &[0, 1])?;
    let checkout = f
        .source_path
        .strip_suffix(&format!("fixtures/programs/{}.bpf.c", f.name))
        .unwrap_or_default();
    let printed = if checkout.is_empty() {
        printed
    } else {
        printed.replace(checkout, "")
    };
    Ok(hide_kernel_addresses(
        &printed.replace(&format!("{}/", dir.display()), ""),
    ))
}

/// Replaces kernel addresses (`0xffff888123456780`: a map's address loaded into a register,
/// different on every load) with `<kernel address>`.
fn hide_kernel_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("0xffff") {
        let candidate = &rest[at + 2..];
        let digits = candidate
            .bytes()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let fifth = candidate.as_bytes().get(4).copied().unwrap_or(b'0');
        out.push_str(&rest[..at]);
        if digits == 16 && (b'8'..=b'e').contains(&fifth.to_ascii_lowercase()) {
            out.push_str("<kernel address>");
        } else {
            out.push_str(&rest[at..at + 2 + digits]);
        }
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

/// The class's `matches:` rule as written in `classes.rs`, followed by the values of the
/// string constants it names.
fn rule_of(source: &str, id: &str) -> Option<String> {
    let entry = &source[source.find(&format!("id: \"{id}\","))?..];
    let start = entry.find("matches:")?;
    let end = entry[start..].find("\n        explain:")? + start;
    let rule = entry[start..end].trim_end().trim_end_matches(',');
    let mut text = dedent(rule);
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("const ") else {
            continue;
        };
        let Some((name, value)) = rest.split_once(": &str = ") else {
            continue;
        };
        if rule.contains(name) {
            let _ = write!(text, "\n// {name} = {}", value.trim_end_matches(';'));
        }
    }
    Some(text)
}

/// `text` with the indentation of its continuation lines removed as far as they share it.
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0)
        .saturating_sub(4);
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l
            } else {
                l.get(indent..).unwrap_or(l.trim_start())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of the printed explanation that start with `prefix` (after the indentation)
/// with the lines indented under them.
fn section(printed: &str, prefix: &str) -> Option<String> {
    let mut lines = printed
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(prefix));
    let first = lines.next()?;
    let indent = first.len() - first.trim_start().len();
    let mut out = first.trim_start().to_string();
    for l in lines {
        if l.trim().is_empty() || l.len() - l.trim_start().len() <= indent {
            break;
        }
        out.push('\n');
        out.push_str(&l[indent..]);
    }
    Some(out)
}

/// A fenced block, with a fence longer than any backtick run inside.
fn fenced(lang: &str, text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{}\n{fence}\n", text.trim_end())
}

/// The note every generated page starts with.
fn generated_note(what: &str) -> String {
    format!("<!-- Generated by docgen from {what}; do not edit: run ./scripts/docs-gen. -->\n\n")
}

fn page(p: &Page, catch_all: bool) -> String {
    let c = &p.class;
    let mut md = generated_note(&format!("{CLASSES_RS} and the class's fixture"));
    let _ = writeln!(md, "# {}\n", c.id);
    let _ = writeln!(
        md,
        "**{}**: {}. [All classes](README.md)\n",
        c.category.name(),
        c.title
    );
    let _ = writeln!(md, "## What it means\n\n{}\n", c.why);
    md.push_str("## The kernel messages it matches\n\n");
    match &p.rule {
        Some(rule) => {
            let _ = writeln!(
                md,
                "The classifier's rule, from [`{CLASSES_RS}`](../../{CLASSES_RS}) (`s` is the \
                 verifier's message and the refused instruction; classes are tried in the \
                 catalogue's order and the first that matches wins):\n"
            );
            md.push_str(&fenced("rust", rule));
            md.push('\n');
        }
        None => {
            let _ = writeln!(
                md,
                "The rule could not be read from [`{CLASSES_RS}`](../../{CLASSES_RS}).\n"
            );
        }
    }
    let first_block_messages: Vec<&str> = p
        .printed
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| l.starts_with("  verifier: "))
        .map(|l| &l["  verifier: ".len()..])
        .collect();
    if !first_block_messages.is_empty() {
        md.push_str("What this kernel says for the fixture below:\n\n");
        md.push_str(&fenced("text", &first_block_messages.join("\n")));
        md.push('\n');
    }
    md.push_str("## A minimal program\n\n");
    match p.fixture {
        Some(f) => {
            let path = format!("fixtures/programs/{}.bpf.c", f.name);
            let verdict = match (f.verdict, f.privileges) {
                (fixtures::Verdict::Accepted, _) => {
                    "This kernel accepts it when loaded with CAP_BPF (as below); the class is \
                     what older or unprivileged verifiers report, as its comment explains."
                }
                (fixtures::Verdict::Rejected, fixtures::Privileges::BpfOnly) => {
                    "This kernel rejects it when it is loaded with CAP_BPF only \
                     (`verifier-explain --bpf-only`), as a least-privilege service loads it; \
                     full root may load it."
                }
                (fixtures::Verdict::Rejected, fixtures::Privileges::Full) => {
                    "This kernel rejects it; the line marked `// <- rejected here` is the one \
                     the verifier refuses."
                }
            };
            let _ = writeln!(
                md,
                "The fixture [`{path}`](../../{path}) ({}). {verdict}\n",
                f.shows
            );
            md.push_str(&fenced("c", f.source));
            md.push('\n');
        }
        None if catch_all => {
            md.push_str(
                "None: this class is the catch-all for messages no other class matches, so \
                 no program shows it on purpose. When `verifier-explain` prints it, the \
                 kernel's message is new to the catalogue: add a class (one entry in \
                 `classes.rs` and a fixture), and its page appears here.\n\n",
            );
        }
        None => {
            let _ = writeln!(
                md,
                "**No fixture shows this class yet.** Add one: \
                 `fixtures/programs/{}.bpf.c` with the header line `// explains: {}` (see \
                 [the fixtures](../fixtures.md)), then run `./scripts/docs-gen`.\n",
                c.id.replace('-', "_"),
                c.id
            );
        }
    }
    if let Some(printed) = &p.printed {
        md.push_str("## What verifier-explain prints for it\n\n");
        let _ = writeln!(
            md,
            "`verifier-explain {}.bpf.o{}` on this kernel, without color (kernel addresses, \
             which change on every load, are shown as `<kernel address>`):\n",
            p.fixture.map_or("", |f| f.name),
            if p.fixture
                .is_some_and(|f| f.privileges == fixtures::Privileges::BpfOnly)
            {
                " --bpf-only"
            } else {
                ""
            }
        );
        md.push_str(&fenced("text", printed));
        md.push('\n');
        if let Some(fix) = section(printed, "fix:") {
            md.push_str("## The fix\n\n");
            let fix = fix.trim_start_matches("fix:").trim_start();
            let (words, code) = match fix.split_once('\n') {
                Some((w, c)) => (w, Some(c)),
                None => (fix, None),
            };
            let _ = writeln!(md, "{words}\n");
            if let Some(code) = code {
                md.push_str(&fenced("c", &dedent_all(code)));
                md.push('\n');
            }
        }
    }
    md
}

/// `text` with the indentation all its lines share removed.
fn dedent_all(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn index(pages: &[Page], catch_all: Option<&str>) -> String {
    let mut md = generated_note(&format!("{CLASSES_RS} and fixtures/programs"));
    md.push_str(
        "# The verifier error catalogue\n\n\
         Every rejection `verifier-explain` explains gets one of these stable IDs (scripts may \
         match on them; `--json` has it as `id`) and a category named as in the kernel's \
         structured verifier diagnostics (Linux 7.3), so explanations from this tool and from \
         newer kernels sort the same way.\n\n\
         Each page shows what the class means, the classifier's rule for the kernel messages \
         it matches, a minimal program that this kernel rejects that way (its fixture in \
         `fixtures/programs/`), the explanation `verifier-explain` really prints for it, and \
         the fix. The pages are generated from the catalogue and the fixtures the tool itself \
         uses (`./scripts/docs-gen`), and CI fails when one is stale, so they cannot drift; \
         `verifier-explain/tests/catalogue.rs` checks each fixture's explanation (ID, line, \
         variable names, fix).\n\n",
    );
    md.push_str("| id | category | title | fixture |\n|---|---|---|---|\n");
    let mut ordered: Vec<&Page> = pages.iter().collect();
    ordered.sort_by_key(|p| category_rank(p.class.category));
    for p in ordered {
        let fixture = match p.fixture {
            Some(f) => format!("`{}`", f.name),
            None if Some(p.class.id) == catch_all => "(catch-all)".into(),
            None => "**none yet**".into(),
        };
        let _ = writeln!(
            md,
            "| [`{}`]({}.md) | {} | {} | {fixture} |",
            p.class.id,
            p.class.id,
            p.class.category.name(),
            p.class.title
        );
    }
    md
}

/// Categories in the order the kernel's diagnostics list them.
fn category_rank(c: Category) -> usize {
    Category::ALL
        .iter()
        .position(|&o| o == c)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_addresses_are_hidden_and_constants_kept() {
        assert_eq!(
            hide_kernel_addresses(
                "r1 = 0xffff888452c22b38 at r2 = 0xffffffff, -1 = 0xffffffffffffffff"
            ),
            "r1 = <kernel address> at r2 = 0xffffffff, -1 = 0xffffffffffffffff"
        );
    }

    #[test]
    fn a_rule_is_read_with_its_constants() {
        let source = "const PACKET: &str = \"invalid access to packet\";\n\
            ErrorClass {\n        id: \"packet-out-of-bounds\",\n        matches: |s| s.has(PACKET),\n        explain: |c| x,\n";
        assert_eq!(
            rule_of(source, "packet-out-of-bounds").unwrap(),
            "matches: |s| s.has(PACKET)\n// PACKET = \"invalid access to packet\""
        );
        assert_eq!(rule_of(source, "nope"), None);
    }

    #[test]
    fn the_fix_section_keeps_its_indented_code() {
        let printed = "  why: x\n\n  fix: (line 20) Check it.\n      if (!count)\n      \treturn 2;\n  limits: y\n";
        assert_eq!(
            section(printed, "fix:").unwrap(),
            "fix: (line 20) Check it.\n    if (!count)\n    \treturn 2;"
        );
    }

    #[test]
    fn fences_outgrow_backticks_inside() {
        assert_eq!(fenced("text", "a ``` b"), "````text\na ``` b\n````\n");
    }
}
