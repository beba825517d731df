//! The rules that say where a dereferenced number came from, checked on verifier logs captured
//! on Linux 6.18 from the real-world corpus (`tests/corpus/explain/`, kernel addresses replaced).
//! Log mode only: no object, no privileges needed.

use std::path::Path;
use verifier_explain::explain_log;

/// The explanation of a captured log: (error id, cause).
fn explain(name: &str) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/explain")
        .join(format!("{name}.log"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let report = explain_log(std::io::BufReader::new(file), None, None)
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let e = report.programs[0]
        .explanation()
        .unwrap_or_else(|| panic!("{name}: no explanation"));
    (e.id.to_string(), e.cause.clone())
}

#[test]
fn a_packet_pointer_used_after_a_helper_that_may_move_the_packet_is_explained_as_invalidated() {
    // tc-snat-stale-ip4-pointer: ip4 checked, bpf_skb_store_bytes(), then ip4->protocol.
    let (id, cause) = explain("6.18-stale_packet_pointer");
    assert_eq!(id, "scalar-dereference");
    assert!(
        cause.contains("was a packet pointer")
            && cause.contains("bpf_skb_store_bytes at line 31")
            && cause.contains("`r6` is only a number"),
        "{cause}"
    );
}

#[test]
fn an_address_from_bpf_get_current_task_is_explained_as_that_helpers_number() {
    // kprobe-task-parent-loop: pos = pos->parent on the task bpf_get_current_task() returned.
    let (id, cause) = explain("6.18-current_task_deref");
    assert_eq!(id, "scalar-dereference");
    assert!(
        cause.contains("bpf_get_current_task returned at line 17"),
        "{cause}"
    );
}

#[test]
fn a_pointer_read_back_from_memory_is_explained_as_a_loaded_number() {
    // kretprobe-tcpv4connect-skc-daddr: the socket saved in a map, dereferenced directly.
    let (id, cause) = explain("6.18-loaded_pointer");
    assert_eq!(id, "scalar-dereference");
    assert!(cause.contains("was read from memory at line 43"), "{cause}");
}

#[test]
fn a_pointer_built_from_a_constant_is_explained_as_a_number() {
    // socket-filter-cursor-from-zero: a header cursor that starts at 0.
    let (id, cause) = explain("6.18-constant_pointer");
    assert_eq!(id, "scalar-dereference");
    assert!(
        cause.contains("is the number 12, computed from a constant"),
        "{cause}"
    );
}
