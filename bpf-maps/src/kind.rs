//! Map types and flags in words, as bpftool spells them.

use aya_obj::generated::bpf_map_type as T;

const NAMES: &[(T, &str)] = &[
    (T::BPF_MAP_TYPE_HASH, "hash"),
    (T::BPF_MAP_TYPE_ARRAY, "array"),
    (T::BPF_MAP_TYPE_PROG_ARRAY, "prog_array"),
    (T::BPF_MAP_TYPE_PERF_EVENT_ARRAY, "perf_event_array"),
    (T::BPF_MAP_TYPE_PERCPU_HASH, "percpu_hash"),
    (T::BPF_MAP_TYPE_PERCPU_ARRAY, "percpu_array"),
    (T::BPF_MAP_TYPE_STACK_TRACE, "stack_trace"),
    (T::BPF_MAP_TYPE_CGROUP_ARRAY, "cgroup_array"),
    (T::BPF_MAP_TYPE_LRU_HASH, "lru_hash"),
    (T::BPF_MAP_TYPE_LRU_PERCPU_HASH, "lru_percpu_hash"),
    (T::BPF_MAP_TYPE_LPM_TRIE, "lpm_trie"),
    (T::BPF_MAP_TYPE_ARRAY_OF_MAPS, "array_of_maps"),
    (T::BPF_MAP_TYPE_HASH_OF_MAPS, "hash_of_maps"),
    (T::BPF_MAP_TYPE_DEVMAP, "devmap"),
    (T::BPF_MAP_TYPE_SOCKMAP, "sockmap"),
    (T::BPF_MAP_TYPE_CPUMAP, "cpumap"),
    (T::BPF_MAP_TYPE_XSKMAP, "xskmap"),
    (T::BPF_MAP_TYPE_SOCKHASH, "sockhash"),
    (T::BPF_MAP_TYPE_CGROUP_STORAGE, "cgroup_storage"),
    (T::BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, "reuseport_sockarray"),
    (
        T::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
        "percpu_cgroup_storage",
    ),
    (T::BPF_MAP_TYPE_QUEUE, "queue"),
    (T::BPF_MAP_TYPE_STACK, "stack"),
    (T::BPF_MAP_TYPE_SK_STORAGE, "sk_storage"),
    (T::BPF_MAP_TYPE_DEVMAP_HASH, "devmap_hash"),
    (T::BPF_MAP_TYPE_STRUCT_OPS, "struct_ops"),
    (T::BPF_MAP_TYPE_RINGBUF, "ringbuf"),
    (T::BPF_MAP_TYPE_INODE_STORAGE, "inode_storage"),
    (T::BPF_MAP_TYPE_TASK_STORAGE, "task_storage"),
    (T::BPF_MAP_TYPE_BLOOM_FILTER, "bloom_filter"),
    (T::BPF_MAP_TYPE_USER_RINGBUF, "user_ringbuf"),
    (T::BPF_MAP_TYPE_CGRP_STORAGE, "cgrp_storage"),
];

/// The map type's name (`hash`, `percpu_array`, ...), or `type N` for types this tool predates.
pub fn type_name(map_type: u32) -> String {
    NAMES
        .iter()
        .find(|(t, _)| *t as u32 == map_type)
        .map_or_else(|| format!("type {map_type}"), |(_, n)| (*n).to_string())
}

/// True for maps with one value per CPU (a lookup returns every possible CPU's copy).
pub fn is_per_cpu(map_type: u32) -> bool {
    [
        T::BPF_MAP_TYPE_PERCPU_HASH,
        T::BPF_MAP_TYPE_PERCPU_ARRAY,
        T::BPF_MAP_TYPE_LRU_PERCPU_HASH,
        T::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
    ]
    .iter()
    .any(|t| *t as u32 == map_type)
}

/// True for arrays: every index in `0..max_entries` always exists and cannot be deleted.
pub fn is_array(map_type: u32) -> bool {
    [T::BPF_MAP_TYPE_ARRAY, T::BPF_MAP_TYPE_PERCPU_ARRAY]
        .iter()
        .any(|t| *t as u32 == map_type)
}

/// True for maps whose elements can be read with lookups from userspace (not ring buffers,
/// socket maps of sockets, queues, bloom filters, struct_ops...).
pub fn is_dumpable(map_type: u32) -> bool {
    [
        T::BPF_MAP_TYPE_HASH,
        T::BPF_MAP_TYPE_ARRAY,
        T::BPF_MAP_TYPE_PERCPU_HASH,
        T::BPF_MAP_TYPE_PERCPU_ARRAY,
        T::BPF_MAP_TYPE_LRU_HASH,
        T::BPF_MAP_TYPE_LRU_PERCPU_HASH,
        T::BPF_MAP_TYPE_LPM_TRIE,
        T::BPF_MAP_TYPE_ARRAY_OF_MAPS,
        T::BPF_MAP_TYPE_HASH_OF_MAPS,
        T::BPF_MAP_TYPE_DEVMAP,
        T::BPF_MAP_TYPE_DEVMAP_HASH,
        T::BPF_MAP_TYPE_CPUMAP,
        T::BPF_MAP_TYPE_PROG_ARRAY,
        T::BPF_MAP_TYPE_CGROUP_STORAGE,
        T::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
        T::BPF_MAP_TYPE_STACK_TRACE,
    ]
    .iter()
    .any(|t| *t as u32 == map_type)
}

/// True for the types whose batch lookup copies whole hash buckets under the bucket lock.
pub fn batch_is_per_bucket(map_type: u32) -> bool {
    [
        T::BPF_MAP_TYPE_HASH,
        T::BPF_MAP_TYPE_PERCPU_HASH,
        T::BPF_MAP_TYPE_LRU_HASH,
        T::BPF_MAP_TYPE_LRU_PERCPU_HASH,
    ]
    .iter()
    .any(|t| *t as u32 == map_type)
}

/// True for the types with `BPF_MAP_LOOKUP_BATCH` (hash and array families, 5.6+).
pub fn has_batch(map_type: u32) -> bool {
    batch_is_per_bucket(map_type) || is_array(map_type)
}

/// The names of the `BPF_F_*` creation flags set in `flags`.
pub fn flag_names(flags: u32) -> Vec<String> {
    const FLAGS: &[(u32, &str)] = &[
        (1 << 0, "no_prealloc"),
        (1 << 1, "no_common_lru"),
        (1 << 2, "numa_node"),
        (1 << 3, "rdonly"),
        (1 << 4, "wronly"),
        (1 << 5, "stack_build_id"),
        (1 << 6, "zero_seed"),
        (1 << 7, "rdonly_prog"),
        (1 << 8, "wronly_prog"),
        (1 << 9, "clone"),
        (1 << 10, "mmapable"),
        (1 << 11, "preserve_elems"),
        (1 << 12, "inner_map"),
        (1 << 13, "link"),
        (1 << 14, "path_fd"),
        (1 << 15, "vtype_btf_obj_fd"),
        (1 << 16, "token_fd"),
        (1 << 17, "segv_on_fault"),
        (1 << 18, "no_user_conv"),
    ];
    let mut names: Vec<String> = FLAGS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    let known = FLAGS.iter().fold(0, |acc, (bit, _)| acc | bit);
    if flags & !known != 0 {
        names.push(format!("{:#x}", flags & !known));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_classes() {
        assert_eq!(type_name(T::BPF_MAP_TYPE_HASH as u32), "hash");
        assert_eq!(type_name(999), "type 999");
        assert!(is_per_cpu(T::BPF_MAP_TYPE_PERCPU_ARRAY as u32));
        assert!(!is_per_cpu(T::BPF_MAP_TYPE_ARRAY as u32));
        assert_eq!(flag_names(1 | 1024), ["no_prealloc", "mmapable"]);
        assert_eq!(flag_names(1 << 30), ["0x40000000"]);
    }
}
