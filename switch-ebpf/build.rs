//! Compiles the switch's data plane (`bpf/*.bpf.c`) and embeds the objects.

use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let clang = bpf_build::Clang::detect()
        .unwrap_or_else(|e| bpf_build::fail(&e))
        .include("bpf")
        .include("../bpf-maps/include");
    let built = clang
        .compile_dir(Path::new("bpf"), &out)
        .unwrap_or_else(|e| bpf_build::fail(&e));
    bpf_build::write_embed_module(&built, &out.join("objects.rs"))
        .unwrap_or_else(|e| bpf_build::fail(&e));
}
