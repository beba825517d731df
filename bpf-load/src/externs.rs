//! Extern symbols resolved as libbpf resolves them: kfuncs (`extern ... __ksym` functions) and
//! kernel variables against the running kernel's BTF, `.kconfig` values from its config, weak
//! externs the kernel lacks as zero (a weak kfunc's call poisoned, as libbpf poisons it).

use std::collections::HashMap;
use std::io::Read as _;

use aya_obj::btf::{Btf, BtfKind};
use bpf_sys::{MapCreate, MapFd};

use super::elf_copy::Error;
use super::object_btf::{Extern, KconfigType};

/// libbpf's `POISON_CALL_KFUNC_BASE`: an unresolved weak kfunc's call becomes a call of helper
/// `2002000000 + n`, which the verifier refuses only if the call is reachable.
const POISON_CALL_KFUNC_BASE: i32 = 2_002_000_000;
/// `BPF_PSEUDO_KFUNC_CALL`, `BPF_PSEUDO_MAP_VALUE`, `BPF_PSEUDO_BTF_ID`.
const PSEUDO_KFUNC_CALL: u8 = 2;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_BTF_ID: u8 = 3;
/// `BPF_F_RDONLY_PROG`: programs may only read the map (so the verifier knows its values).
const RDONLY_PROG: u32 = 1 << 7;

/// What an instruction that refers to an extern becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Patch {
    /// `call` of kernel function `btf_id` (in vmlinux's BTF).
    KfuncCall { btf_id: u32 },
    /// `call` of a weak kfunc the kernel lacks: a poisoned helper call.
    PoisonCall { index: u32 },
    /// `ld_imm64` of the address of a value in the `.kconfig` map.
    Kconfig { map_fd: i32, offset: u32 },
    /// `ld_imm64` of kernel variable `btf_id`.
    KernelVar { btf_id: u32 },
    /// `ld_imm64` of a weak kernel variable the kernel lacks: 0.
    Null,
}

impl Patch {
    /// Rewrites the instruction(s) at the start of `insns` (little-endian encoding), adding
    /// `addend` (what the compiler left in the first immediate) to a map value's offset.
    pub fn apply(self, insns: &mut [u8]) -> Result<(), Error> {
        let set_imm = |insns: &mut [u8], at: usize, v: i32| {
            insns[at + 4..at + 8].copy_from_slice(&v.to_le_bytes());
        };
        let set_src = |insns: &mut [u8], src: u8| insns[1] = (insns[1] & 0x0f) | (src << 4);
        let imm = |insns: &[u8]| i32::from_le_bytes(insns[4..8].try_into().expect("4 bytes"));
        let is_call = insns.first() == Some(&0x85);
        let is_ld_imm64 = insns.first() == Some(&0x18) && insns.len() >= 16;
        match self {
            Patch::KfuncCall { btf_id } if is_call => {
                set_src(insns, PSEUDO_KFUNC_CALL);
                insns[2..4].fill(0);
                set_imm(insns, 0, btf_id as i32);
            }
            Patch::PoisonCall { index } if is_call => {
                set_src(insns, 0);
                insns[2..4].fill(0);
                set_imm(insns, 0, POISON_CALL_KFUNC_BASE + index as i32);
            }
            Patch::Kconfig { map_fd, offset } if is_ld_imm64 => {
                let addend = imm(insns);
                set_src(insns, PSEUDO_MAP_VALUE);
                set_imm(insns, 0, map_fd);
                set_imm(insns, 8, offset as i32 + addend);
            }
            Patch::KernelVar { btf_id } if is_ld_imm64 => {
                set_src(insns, PSEUDO_BTF_ID);
                set_imm(insns, 0, btf_id as i32);
                set_imm(insns, 8, 0);
            }
            Patch::Null if is_ld_imm64 => {
                set_src(insns, 0);
                set_imm(insns, 0, 0);
                set_imm(insns, 8, 0);
            }
            _ => {
                return Err(format!(
                    "an extern is used by an instruction (opcode {:#04x}) libbpf does not \
                     relocate externs in",
                    insns.first().copied().unwrap_or(0)
                ));
            }
        }
        Ok(())
    }
}

/// The externs resolved: what each one's instructions become, and the `.kconfig` map that
/// holds the config values (it must outlive the programs' loads).
pub(crate) struct Resolved {
    /// By extern name.
    pub patches: HashMap<String, Patch>,
    /// The read-only, frozen `.kconfig` map, when the object has `.kconfig` externs.
    pub kconfig_map: Option<MapFd>,
}

/// Resolves `externs`; `weak` says which are declared `__weak`.
pub(crate) fn resolve(externs: &[Extern], weak: &dyn Fn(&str) -> bool) -> Result<Resolved, Error> {
    let mut patches = HashMap::new();
    let ksyms: Vec<&Extern> = externs.iter().filter(|e| !e.kconfig).collect();
    if !ksyms.is_empty() {
        let vmlinux = Btf::from_sys_fs()
            .map_err(|e| format!("kfuncs and __ksym variables need the kernel's BTF: {e}"))?;
        for (index, e) in ksyms.iter().enumerate() {
            let kind = if e.is_func {
                BtfKind::Func
            } else {
                BtfKind::Var
            };
            let patch = match (vmlinux.id_by_type_name_kind(&e.name, kind), e.is_func) {
                (Ok(btf_id), true) => Patch::KfuncCall { btf_id },
                (Ok(btf_id), false) => Patch::KernelVar { btf_id },
                (Err(_), true) if weak(&e.name) => Patch::PoisonCall {
                    index: index as u32,
                },
                (Err(_), false) if weak(&e.name) => Patch::Null,
                (Err(_), _) => {
                    return Err(format!(
                        "extern `{}` (__ksym): not found in the kernel's BTF (kernel modules' \
                         BTF is not searched)",
                        e.name
                    ));
                }
            };
            patches.insert(e.name.clone(), patch);
        }
    }
    let align = |e: &Extern| match e.kconfig_type {
        Some(KconfigType::CharArray) => 1,
        _ => e.size.clamp(1, 8).next_power_of_two(),
    };
    // libbpf's order (`cmp_externs`): alignment descending, then size, then name.
    let mut kconfig: Vec<&Extern> = externs.iter().filter(|e| e.kconfig).collect();
    kconfig.sort_by(|a, b| (align(b), a.size, &a.name).cmp(&(align(a), b.size, &b.name)));
    let kconfig_map = if kconfig.is_empty() {
        None
    } else {
        let config = KernelConfig::read();
        let mut value = Vec::new();
        let mut offsets = Vec::new();
        for e in &kconfig {
            let at = value.len().next_multiple_of(align(e) as usize);
            value.resize(at + e.size as usize, 0);
            let bytes = config.value_of(e)?;
            match bytes {
                Some(bytes) => value[at..at + bytes.len()].copy_from_slice(&bytes),
                None if weak(&e.name) => {}
                None => {
                    return Err(format!(
                        "extern `{}` (__kconfig): no value in {}",
                        e.name, config.source
                    ));
                }
            }
            offsets.push(at as u32);
        }
        // As libbpf sizes it: up to the end of the last value.
        if value.is_empty() {
            value.push(0);
        }
        let map = MapFd::create(&MapCreate {
            map_type: 2, // BPF_MAP_TYPE_ARRAY
            name: ".kconfig",
            key_size: 4,
            value_size: value.len() as u32,
            max_entries: 1,
            flags: RDONLY_PROG,
            inner_map: None,
        })
        .map_err(|e| format!("cannot create the .kconfig map: {e}"))?;
        map.update(&0u32.to_ne_bytes(), &value, 0)
            .and_then(|()| map.freeze())
            .map_err(|e| format!("cannot fill the .kconfig map: {e}"))?;
        use std::os::fd::{AsFd as _, AsRawFd as _};
        let map_fd = map.as_fd().as_raw_fd();
        for (e, offset) in kconfig.iter().zip(offsets) {
            patches.insert(e.name.clone(), Patch::Kconfig { map_fd, offset });
        }
        Some(map)
    };
    Ok(Resolved {
        patches,
        kconfig_map,
    })
}

/// The running kernel's configuration, as libbpf reads it.
struct KernelConfig {
    /// Where it came from (for messages).
    source: String,
    values: HashMap<String, String>,
    /// The kernel release (`uname -r`).
    release: String,
}

impl KernelConfig {
    /// `/proc/config.gz`, else `/boot/config-$(uname -r)`; empty when neither is readable.
    fn read() -> Self {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let boot = format!("/boot/config-{release}");
        let mut text = String::new();
        let source = if std::fs::File::open("/proc/config.gz")
            .and_then(|f| flate2::read::GzDecoder::new(f).read_to_string(&mut text))
            .is_ok()
        {
            "/proc/config.gz".to_string()
        } else if let Ok(t) = std::fs::read_to_string(&boot) {
            text = t;
            boot
        } else {
            format!("the kernel config (neither /proc/config.gz nor {boot} is readable)")
        };
        let values = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.starts_with("CONFIG_"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self {
            source,
            values,
            release,
        }
    }

    /// `KERNEL_VERSION(a, b, c)` of the release, `c` capped at 255 as libbpf caps it.
    fn kernel_version(&self) -> u32 {
        let mut parts = self
            .release
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (a, b, c) = (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        );
        (a << 16) + (b << 8) + c.min(255)
    }

    /// The bytes of extern `e`'s value, or `None` when the kernel has no value for it.
    fn value_of(&self, e: &Extern) -> Result<Option<Vec<u8>>, Error> {
        let size = e.size as usize;
        let int = |v: u64| v.to_ne_bytes()[..size.min(8)].to_vec();
        if e.name == "LINUX_KERNEL_VERSION" {
            return Ok(Some(int(u64::from(self.kernel_version()))));
        }
        let Some(raw) = self.values.get(&e.name) else {
            return Ok(None);
        };
        let bad = || {
            format!(
                "extern `{}` (__kconfig): the value `{raw}` does not fit its type",
                e.name
            )
        };
        let bytes = match (e.kconfig_type, raw.as_str()) {
            (Some(KconfigType::Bool), "y") => int(1),
            (Some(KconfigType::Bool), "n") => int(0),
            (Some(KconfigType::Tristate), "y") => int(1),
            (Some(KconfigType::Tristate), "m") => int(2),
            (Some(KconfigType::Tristate), "n") => int(0),
            (Some(KconfigType::Char), v @ ("y" | "m" | "n")) => vec![v.as_bytes()[0]],
            (Some(KconfigType::CharArray), v) => {
                let s = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(bad)?;
                let mut b = s.as_bytes()[..s.len().min(size.saturating_sub(1))].to_vec();
                b.push(0);
                b
            }
            (Some(KconfigType::Int), v) => {
                let n = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => v
                        .parse::<i64>()
                        .ok()
                        .map(|n| n as u64)
                        .or_else(|| v.parse::<u64>().ok()),
                }
                .ok_or_else(bad)?;
                int(n)
            }
            _ => return Err(bad()),
        };
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(values: &[(&str, &str)], release: &str) -> KernelConfig {
        KernelConfig {
            source: "test".into(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            release: release.into(),
        }
    }

    fn kconfig(name: &str, size: u32, kind: KconfigType) -> Extern {
        Extern {
            name: name.into(),
            kconfig: true,
            is_func: false,
            size,
            kconfig_type: Some(kind),
        }
    }

    #[test]
    fn kconfig_values_are_stored_as_libbpf_stores_them() {
        let c = config(
            &[
                ("CONFIG_HZ", "250"),
                ("CONFIG_BPF", "y"),
                ("CONFIG_XFS_FS", "m"),
                ("CONFIG_LOCALVERSION", "\"-fc\""),
                ("CONFIG_BASE", "0x10"),
            ],
            "6.18.300-fc-v1",
        );
        let value = |name, size, kind| c.value_of(&kconfig(name, size, kind)).unwrap();
        use KconfigType::*;
        assert_eq!(
            value("CONFIG_HZ", 4, Int),
            Some(250u32.to_ne_bytes().to_vec())
        );
        assert_eq!(
            value("CONFIG_BASE", 8, Int),
            Some(16u64.to_ne_bytes().to_vec())
        );
        assert_eq!(value("CONFIG_BPF", 1, Bool), Some(vec![1]));
        assert_eq!(
            value("CONFIG_XFS_FS", 4, Tristate),
            Some(2u32.to_ne_bytes().to_vec())
        );
        assert_eq!(value("CONFIG_BPF", 1, Char), Some(b"y".to_vec()));
        assert_eq!(
            value("CONFIG_LOCALVERSION", 8, CharArray),
            Some(b"-fc\0".to_vec())
        );
        assert_eq!(value("CONFIG_ABSENT", 4, Int), None);
        // The patch level is capped at 255, as libbpf caps it.
        assert_eq!(
            value("LINUX_KERNEL_VERSION", 4, Int),
            Some(((6u32 << 16) + (18 << 8) + 255).to_ne_bytes().to_vec())
        );
        assert!(c.value_of(&kconfig("CONFIG_XFS_FS", 1, Bool)).is_err());
    }

    #[test]
    fn instructions_are_patched_as_libbpf_patches_them() {
        // call -1 with src_reg BPF_PSEUDO_CALL, as clang emits a kfunc call.
        let mut call = [0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff];
        Patch::KfuncCall { btf_id: 1234 }.apply(&mut call).unwrap();
        assert_eq!(call[1] >> 4, 2);
        assert_eq!(i32::from_le_bytes(call[4..8].try_into().unwrap()), 1234);
        let mut poisoned = [0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff];
        Patch::PoisonCall { index: 3 }.apply(&mut poisoned).unwrap();
        assert_eq!(poisoned[1] >> 4, 0);
        assert_eq!(
            i32::from_le_bytes(poisoned[4..8].try_into().unwrap()),
            2_002_000_003
        );
        // r1 = <extern> ll, with an addend of 4 in the first immediate.
        let mut ld = [0x18, 0x01, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Patch::Kconfig {
            map_fd: 7,
            offset: 8,
        }
        .apply(&mut ld)
        .unwrap();
        assert_eq!(ld[1], 0x21, "src_reg BPF_PSEUDO_MAP_VALUE, dst r1");
        assert_eq!(i32::from_le_bytes(ld[4..8].try_into().unwrap()), 7);
        assert_eq!(i32::from_le_bytes(ld[12..16].try_into().unwrap()), 12);
        // An extern used by an instruction that is neither: refused, not guessed.
        let mut mov = [0xb7, 0x01, 0, 0, 0, 0, 0, 0];
        assert!(Patch::KfuncCall { btf_id: 1 }.apply(&mut mov).is_err());
    }
}
