//! Compiles eBPF programs written in C, for use from a crate's `build.rs`.
//!
//! Every object is built with `clang -O2 -g -target bpf`, so it keeps both BTF (which the kernel
//! needs for maps, CO-RE and line info) and DWARF (which the project's tools need to map
//! instructions and registers back to source). Objects are rebuilt only when a source or one of
//! the headers it includes changes: clang writes a dependency file and every local dependency is
//! reported to cargo with `rerun-if-changed`.
//!
//! ```no_run
//! // build.rs
//! let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
//! let clang = bpf_build::Clang::detect().unwrap_or_else(|e| bpf_build::fail(&e));
//! let built = clang.compile_dir("bpf".as_ref(), &out).unwrap_or_else(|e| bpf_build::fail(&e));
//! bpf_build::write_embed_module(&built, &out.join("objects.rs")).unwrap();
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The suffix that marks an eBPF C source file.
pub const SOURCE_SUFFIX: &str = ".bpf.c";

/// Why an eBPF object could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// clang is not installed (or `CLANG` points nowhere).
    #[error(
        "clang was not found ({tried}). Install it with `apt-get install clang` \
         (Debian package `clang`, version 11 or later), or set CLANG=/path/to/clang"
    )]
    ClangMissing {
        /// The program that was tried.
        tried: String,
    },
    /// The libbpf headers (`bpf/bpf_helpers.h`) are missing.
    #[error(
        "the libbpf headers were not found (no bpf/bpf_helpers.h under {searched}). \
         Install them with `apt-get install libbpf-dev`"
    )]
    LibbpfHeadersMissing {
        /// The include directories that were searched.
        searched: String,
    },
    /// clang ran and rejected a source file.
    #[error("clang failed to compile {source_file}:\n{stderr}")]
    Compile {
        /// The source that failed.
        source_file: PathBuf,
        /// What clang printed.
        stderr: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {path}: {err}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        err: std::io::Error,
    },
}

/// One compiled eBPF object.
#[derive(Debug, Clone)]
pub struct Built {
    /// The file name without `.bpf.c`, e.g. `xdp_pass`.
    pub stem: String,
    /// The C source it came from.
    pub source: PathBuf,
    /// The object file clang wrote.
    pub object: PathBuf,
}

/// A clang that can target BPF, plus the include path the programs need.
#[derive(Debug, Clone)]
pub struct Clang {
    program: PathBuf,
    include_dirs: Vec<PathBuf>,
    cpu: Option<&'static str>,
}

impl Clang {
    /// Finds clang (`$CLANG`, else `clang` on `PATH`) and the libbpf headers.
    ///
    /// The include path holds the Debian multiarch directory
    /// (`/usr/include/<arch>-linux-gnu`), which `<asm/types.h>` needs.
    pub fn detect() -> Result<Self, BuildError> {
        println!("cargo:rerun-if-env-changed=CLANG");
        let program = PathBuf::from(std::env::var_os("CLANG").unwrap_or_else(|| "clang".into()));
        let runs = Command::new(&program)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !runs {
            return Err(BuildError::ClangMissing {
                tried: program.display().to_string(),
            });
        }
        let multiarch = PathBuf::from(format!("/usr/include/{}", multiarch_triplet()));
        let include_dirs: Vec<PathBuf> = [multiarch, PathBuf::from("/usr/include")]
            .into_iter()
            .filter(|d| d.is_dir())
            .collect();
        if !include_dirs
            .iter()
            .any(|d| d.join("bpf/bpf_helpers.h").is_file())
        {
            return Err(BuildError::LibbpfHeadersMissing {
                searched: "/usr/include".into(),
            });
        }
        Ok(Clang {
            program,
            include_dirs,
            cpu: None,
        })
    }

    /// Adds a directory of project headers to the include path.
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Self {
        self.include_dirs.insert(0, dir.into());
        self
    }

    /// Targets a BPF instruction set version (`-mcpu=v3` for 32-bit atomics and ALU32, which
    /// kernels from 5.1 on run). Without it clang's default (v1 on clang 14) is used.
    pub fn cpu(mut self, version: &'static str) -> Self {
        self.cpu = Some(version);
        self
    }

    /// Compiles one source into `out_dir/<stem>.bpf.o` and tells cargo which files it read.
    pub fn compile(&self, source: &Path, out_dir: &Path) -> Result<Built, BuildError> {
        let file_name = source
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let stem = file_name
            .strip_suffix(SOURCE_SUFFIX)
            .unwrap_or(file_name)
            .to_string();
        let object = out_dir.join(format!("{stem}.bpf.o"));
        let depfile = out_dir.join(format!("{stem}.bpf.d"));
        let mut cmd = Command::new(&self.program);
        cmd.args(["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"]);
        // Keep the DWARF close to the source: no column info would lose `line:col` precision.
        cmd.arg("-gcolumn-info");
        if let Some(cpu) = self.cpu {
            cmd.arg(format!("-mcpu={cpu}"));
        }
        for dir in &self.include_dirs {
            cmd.arg("-I").arg(dir);
        }
        cmd.arg("-MD").arg("-MF").arg(&depfile);
        cmd.arg("-c").arg(source).arg("-o").arg(&object);
        let output = cmd.output().map_err(|err| BuildError::Io {
            action: "running clang for",
            path: source.to_path_buf(),
            err,
        })?;
        if !output.status.success() {
            return Err(BuildError::Compile {
                source_file: source.to_path_buf(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        let deps = std::fs::read_to_string(&depfile).map_err(|err| BuildError::Io {
            action: "reading clang's dependency file",
            path: depfile.clone(),
            err,
        })?;
        for dep in parse_depfile(&deps) {
            // System headers change with packages, not with the project.
            if !dep.starts_with("/usr/") {
                println!("cargo:rerun-if-changed={dep}");
            }
        }
        println!("cargo:rerun-if-changed={}", source.display());
        Ok(Built {
            stem,
            source: source.to_path_buf(),
            object,
        })
    }

    /// Compiles every `*.bpf.c` in `dir` (sorted by name) into `out_dir`.
    ///
    /// The directory itself is watched too, so adding a new source triggers a rebuild.
    pub fn compile_dir(&self, dir: &Path, out_dir: &Path) -> Result<Vec<Built>, BuildError> {
        println!("cargo:rerun-if-changed={}", dir.display());
        let io = |err| BuildError::Io {
            action: "listing",
            path: dir.to_path_buf(),
            err,
        };
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.to_str().is_some_and(|p| p.ends_with(SOURCE_SUFFIX)) {
                sources.push(path);
            }
        }
        sources.sort();
        sources.iter().map(|s| self.compile(s, out_dir)).collect()
    }
}

/// Debian's multiarch triplet for the build machine (what `<asm/types.h>` lives under).
fn multiarch_triplet() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "i386-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "powerpc64" if cfg!(target_endian = "little") => "powerpc64le-linux-gnu",
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "riscv64" => "riscv64-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "loongarch64" => "loongarch64-linux-gnu",
        other => {
            // Unknown: the usual pattern, which is right for most architectures.
            Box::leak(format!("{other}-linux-gnu").into_boxed_str())
        }
    }
}

/// A Rust identifier for an object's stem: `my-prog` becomes `MY_PROG`, `4x` becomes `_4X`.
pub fn static_name(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// Splits a Makefile-style dependency file (as written by `clang -MD`) into its prerequisites.
pub fn parse_depfile(text: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let Some((_, prereqs)) = joined.split_once(": ") else {
        return Vec::new();
    };
    let mut deps = Vec::new();
    let mut current = String::new();
    let mut chars = prereqs.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                current.push(' ');
                chars.next();
            }
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    deps.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        deps.push(current);
    }
    deps
}

/// Rust expression that embeds `object` as a `&'static [u8]` aligned to 8 bytes.
///
/// ELF parsers (aya's included) read headers in place, so the bytes must be aligned.
pub fn aligned_bytes_expr(object: &Path) -> String {
    format!(
        "{{ #[repr(C, align(8))] struct Aligned<B: ?Sized>(B); \
         const A: &Aligned<[u8]> = &Aligned(*include_bytes!({:?})); &A.0 }}",
        object.display().to_string()
    )
}

/// Writes a Rust module with one `pub static <STEM>: &[u8]` per object, for `include!`.
pub fn write_embed_module(built: &[Built], out: &Path) -> Result<(), BuildError> {
    let mut code = String::new();
    for b in built {
        let _ = writeln!(
            code,
            "/// The eBPF object compiled from `{}`.\npub static {}: &[u8] = {};",
            b.source.file_name().unwrap_or_default().to_string_lossy(),
            static_name(&b.stem),
            aligned_bytes_expr(&b.object)
        );
    }
    std::fs::write(out, code).map_err(|err| BuildError::Io {
        action: "writing",
        path: out.to_path_buf(),
        err,
    })
}

/// Prints `err` as one clear build error and exits, for use at the top of a `build.rs`.
pub fn fail(err: &BuildError) -> ! {
    eprintln!("error: {err}");
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depfile_with_continuations_and_escaped_spaces() {
        let text =
            "out/x.bpf.o: src/x.bpf.c /usr/include/bpf/bpf_helpers.h \\\n  inc/my\\ header.h\n";
        assert_eq!(
            parse_depfile(text),
            [
                "src/x.bpf.c",
                "/usr/include/bpf/bpf_helpers.h",
                "inc/my header.h"
            ]
        );
    }

    #[test]
    fn static_names_are_identifiers() {
        assert_eq!(static_name("switch"), "SWITCH");
        assert_eq!(static_name("my-prog.v2"), "MY_PROG_V2");
        assert_eq!(static_name("4x"), "_4X");
    }

    #[test]
    fn depfile_without_rule_is_empty() {
        assert!(parse_depfile("garbage").is_empty());
    }

    #[test]
    fn missing_clang_names_the_package() {
        let err = BuildError::ClangMissing {
            tried: "clang".into(),
        };
        let msg = err.to_string();
        assert!(msg.contains("apt-get install clang"), "{msg}");
    }

    #[test]
    fn compiles_a_program_with_btf_and_dwarf() {
        let Ok(clang) = Clang::detect() else {
            panic!(
                "clang and libbpf-dev are required for this test: apt-get install clang libbpf-dev"
            );
        };
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("t.bpf.c");
        std::fs::write(
            &src,
            "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n\
             SEC(\"xdp\") int t(struct xdp_md *ctx) { return XDP_PASS; }\n\
             char LICENSE[] SEC(\"license\") = \"GPL\";\n",
        )
        .unwrap();
        let built = clang.compile(&src, dir.path()).unwrap();
        assert_eq!(built.stem, "t");
        let bytes = std::fs::read(&built.object).unwrap();
        assert_eq!(&bytes[..4], b"\x7fELF");
        for section in [".BTF", ".BTF.ext", ".debug_info", ".debug_line"] {
            assert!(
                bytes
                    .windows(section.len() + 1)
                    .any(|w| w == format!("{section}\0").as_bytes()),
                "object lacks {section}"
            );
        }
    }

    #[test]
    fn compile_error_carries_clang_output() {
        let Ok(clang) = Clang::detect() else {
            panic!(
                "clang and libbpf-dev are required for this test: apt-get install clang libbpf-dev"
            );
        };
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("bad.bpf.c");
        std::fs::write(&src, "int f( { }\n").unwrap();
        let err = clang.compile(&src, dir.path()).unwrap_err();
        assert!(matches!(err, BuildError::Compile { .. }));
        assert!(err.to_string().contains("bad.bpf.c"), "{err}");
    }
}
