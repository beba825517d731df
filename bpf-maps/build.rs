//! Compiles the library's own eBPF programs (`bpf/*.bpf.c`) and embeds the objects.

use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // v3: 32-bit atomic compare-and-swap (kernels 5.12+ run it; syscall programs need 5.14).
    let clang = bpf_build::Clang::detect()
        .unwrap_or_else(|e| bpf_build::fail(&e))
        .include("bpf")
        .cpu("v3");
    let built = clang
        .compile_dir(Path::new("bpf"), &out)
        .unwrap_or_else(|e| bpf_build::fail(&e));
    bpf_build::write_embed_module(&built, &out.join("objects.rs"))
        .unwrap_or_else(|e| bpf_build::fail(&e));
}
