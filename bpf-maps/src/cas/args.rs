//! The argument block of the `xdpdbg_cas` program (`bpf/map_cas.h`), encoded by hand so no
//! unsafe layout punning is needed. A test checks every offset against the object's BTF.

/// Longest key the program takes.
pub const MAX_KEY: usize = 256;
/// Longest value a locked update takes.
pub const MAX_VALUE: usize = 512;

pub(super) const OFF_OP: usize = 0;
pub(super) const OFF_OFFSET: usize = 4;
pub(super) const OFF_WIDTH: usize = 8;
pub(super) const OFF_RESULT: usize = 12;
pub(super) const OFF_EXPECTED: usize = 16;
pub(super) const OFF_DESIRED: usize = 24;
pub(super) const OFF_OBSERVED: usize = 32;
pub(super) const OFF_KEY: usize = 40;
pub(super) const OFF_VALUE: usize = OFF_KEY + MAX_KEY;
/// Size of `struct cas_args`.
pub(super) const SIZE: usize = OFF_VALUE + MAX_VALUE;

/// `enum cas_op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(super) enum CasOp {
    Cas = 1,
    CasDelete = 2,
    LockedCas = 3,
    LockedUpdate = 4,
}

/// `enum cas_result`.
pub(super) const RESULT_SWAPPED: u32 = 0;
pub(super) const RESULT_MISMATCH: u32 = 1;
pub(super) const RESULT_ABSENT: u32 = 2;
pub(super) const RESULT_BAD_ARGS: u32 = 3;
pub(super) const RESULT_DELETE_FAILED: u32 = 4;

/// One encoded `struct cas_args`.
pub(super) struct Args(pub(super) Vec<u8>);

/// The fields of an argument block that the caller chooses.
pub(super) struct Request<'a> {
    pub op: CasOp,
    pub offset: u32,
    pub width: u32,
    pub expected: u64,
    pub desired: u64,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

impl Args {
    pub(super) fn new(r: &Request<'_>) -> Self {
        let mut b = vec![0u8; SIZE];
        b[OFF_OP..OFF_OP + 4].copy_from_slice(&(r.op as u32).to_ne_bytes());
        b[OFF_OFFSET..OFF_OFFSET + 4].copy_from_slice(&r.offset.to_ne_bytes());
        b[OFF_WIDTH..OFF_WIDTH + 4].copy_from_slice(&r.width.to_ne_bytes());
        b[OFF_EXPECTED..OFF_EXPECTED + 8].copy_from_slice(&r.expected.to_ne_bytes());
        b[OFF_DESIRED..OFF_DESIRED + 8].copy_from_slice(&r.desired.to_ne_bytes());
        b[OFF_KEY..OFF_KEY + r.key.len()].copy_from_slice(r.key);
        b[OFF_VALUE..OFF_VALUE + r.value.len()].copy_from_slice(r.value);
        Self(b)
    }

    pub(super) fn result(&self) -> u32 {
        u32::from_ne_bytes(
            self.0[OFF_RESULT..OFF_RESULT + 4]
                .try_into()
                .expect("4 bytes"),
        )
    }

    pub(super) fn observed(&self) -> u64 {
        u64::from_ne_bytes(
            self.0[OFF_OBSERVED..OFF_OBSERVED + 8]
                .try_into()
                .expect("8 bytes"),
        )
    }
}

#[cfg(test)]
mod tests {
    use object::{Object as _, ObjectSection as _};

    use super::*;
    use crate::typed::Types;

    #[test]
    fn offsets_match_the_programs_btf() {
        let elf = object::File::parse(crate::objects::MAP_CAS).unwrap();
        let btf = elf.section_by_name(".BTF").unwrap().data().unwrap();
        let types = Types::from_bytes(btf).unwrap();
        let args = types.get(types.find("struct cas_args").unwrap()).unwrap();
        assert_eq!(args.size(), SIZE);
        for (name, offset) in [
            ("op", OFF_OP),
            ("offset", OFF_OFFSET),
            ("width", OFF_WIDTH),
            ("result", OFF_RESULT),
            ("expected", OFF_EXPECTED),
            ("desired", OFF_DESIRED),
            ("observed", OFF_OBSERVED),
            ("key", OFF_KEY),
            ("value", OFF_VALUE),
        ] {
            assert_eq!(args.field(name).unwrap().offset, offset, "{name}");
        }
        assert_eq!(args.field("key").unwrap().size, MAX_KEY);
        assert_eq!(args.field("value").unwrap().size, MAX_VALUE);
    }
}
