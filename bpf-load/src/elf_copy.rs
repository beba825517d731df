//! An ELF64 object being rewritten in a copy of its bytes: sections read, patched in place,
//! shrunk, or moved to the end of the file (eBPF objects are ELF64, of either byte order).

/// What went wrong rewriting the ELF (a shape this crate does not handle).
pub(crate) type Error = String;

/// A `u32` in the given byte order.
pub(crate) fn u32_of(little: bool, b: &[u8]) -> u32 {
    let b: [u8; 4] = b[..4].try_into().expect("four bytes");
    if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    }
}

/// An ELF64 being rewritten (eBPF objects are ELF64, of either byte order).
pub(crate) struct ElfCopy {
    pub bytes: Vec<u8>,
    pub little: bool,
}

impl ElfCopy {
    pub(crate) fn new(bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() < 64 || bytes[4] != 2 {
            return Err("not an ELF64 object".into());
        }
        let little = bytes[5] == 1;
        Ok(Self { bytes, little })
    }

    pub(crate) fn u16_at(&self, at: usize) -> u16 {
        let b: [u8; 2] = self.bytes[at..at + 2].try_into().expect("two bytes");
        if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    }

    pub(crate) fn u32_at(&self, at: usize) -> u32 {
        u32_of(self.little, &self.bytes[at..at + 4])
    }

    pub(crate) fn u64_at(&self, at: usize) -> u64 {
        let b: [u8; 8] = self.bytes[at..at + 8].try_into().expect("eight bytes");
        if self.little {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        }
    }

    pub(crate) fn put_u32(&self, data: &mut [u8], at: usize, value: u32) {
        let b = if self.little {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        };
        data[at..at + 4].copy_from_slice(&b);
    }

    pub(crate) fn set_u32(&mut self, at: usize, value: u32) {
        let mut bytes = std::mem::take(&mut self.bytes);
        self.put_u32(&mut bytes, at, value);
        self.bytes = bytes;
    }

    pub(crate) fn set_u64(&mut self, at: usize, value: u64) {
        let b = if self.little {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        };
        self.bytes[at..at + 8].copy_from_slice(&b);
    }

    pub(crate) fn section_count(&self) -> usize {
        self.u16_at(0x3c) as usize
    }

    /// The file offset of section `index`'s header.
    pub(crate) fn header(&self, index: usize) -> u64 {
        self.u64_at(0x28) + index as u64 * u64::from(self.u16_at(0x3a))
    }

    pub(crate) fn section_offset(&self, index: usize) -> usize {
        self.u64_at(self.header(index) as usize + 24) as usize
    }

    pub(crate) fn section_data(&self, index: usize) -> Result<&[u8], Error> {
        let header = self.header(index) as usize;
        let (offset, size) = (
            self.u64_at(header + 24) as usize,
            self.u64_at(header + 32) as usize,
        );
        self.bytes
            .get(offset..offset + size)
            .ok_or_else(|| format!("section {index} lies outside the file"))
    }

    /// Section `index`'s type (`SHT_*`) and `sh_info`.
    pub(crate) fn section_type_and_info(&self, index: usize) -> (u32, u32) {
        let header = self.header(index) as usize;
        (self.u32_at(header + 4), self.u32_at(header + 44))
    }

    /// Whether section `index` holds instructions (`SHF_EXECINSTR`).
    pub(crate) fn is_executable(&self, index: usize) -> bool {
        index < self.section_count() && self.u64_at(self.header(index) as usize + 8) & 0x4 != 0
    }

    /// Shrinks section `index` in place to `data`, which must not be longer than it.
    pub(crate) fn shrink_section(&mut self, index: usize, data: &[u8]) {
        let header = self.header(index) as usize;
        let offset = self.u64_at(header + 24) as usize;
        self.bytes[offset..offset + data.len()].copy_from_slice(data);
        self.set_u64(header + 32, data.len() as u64);
    }

    /// Puts `data` at the end of the file (8-byte aligned) and points section `index` at it.
    pub(crate) fn move_section(&mut self, index: usize, data: &[u8]) -> Result<(), Error> {
        self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
        let offset = self.bytes.len() as u64;
        self.bytes.extend_from_slice(data);
        let header = self.header(index) as usize;
        self.set_u64(header + 24, offset);
        self.set_u64(header + 32, data.len() as u64);
        Ok(())
    }
}
