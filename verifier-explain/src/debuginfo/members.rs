//! The members of the object's named structs with their byte offsets, from DWARF: which field
//! of the context an offset the verifier prints is (`struct __sk_buff` at 32 is `priority`).

use std::collections::HashMap;

use super::DebugInfoError;

type Slice<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

/// The most struct members read from one object (a bound on hostile DWARF).
const MAX_MEMBERS: usize = 1 << 20;

/// Every named struct's members, by struct name (the first definition of each name).
#[derive(Debug, Default)]
pub(crate) struct StructMembers {
    by_struct: HashMap<String, Vec<(u64, String)>>,
    count: usize,
}

impl StructMembers {
    /// Reads the struct definitions of one unit.
    pub(crate) fn add_unit(
        &mut self,
        dwarf: &gimli::Dwarf<Slice<'_>>,
        unit: &gimli::Unit<Slice<'_>>,
    ) -> Result<(), DebugInfoError> {
        let name_of = |die: &gimli::DebuggingInformationEntry<Slice<'_>>| {
            let value = die.attr_value(gimli::DW_AT_name)?;
            let s = dwarf.attr_string(unit, value).ok()?;
            Some(s.to_string_lossy().into_owned())
        };
        // The struct being read: its name and the depth of its members.
        let mut current: Option<(String, isize)> = None;
        let mut cursor = unit.entries();
        while let Some(entry) = cursor
            .next_dfs()
            .map_err(|e| DebugInfoError::Malformed(format!("DWARF: {e}")))?
        {
            let depth = entry.depth();
            if current.as_ref().is_some_and(|(_, d)| depth < *d) {
                current = None;
            }
            match entry.tag() {
                gimli::DW_TAG_structure_type | gimli::DW_TAG_union_type => {
                    // An anonymous struct or union nested in the one being read keeps it
                    // current; its own members, one level deeper, are not the outer's.
                    let declaration = entry.attr_value(gimli::DW_AT_declaration).is_some();
                    if let Some(n) =
                        name_of(entry).filter(|n| !declaration && !self.by_struct.contains_key(n))
                    {
                        current = Some((n, depth + 1));
                    }
                }
                gimli::DW_TAG_member => {
                    let Some((owner, d)) = &current else { continue };
                    if depth != *d {
                        continue;
                    }
                    let offset = entry
                        .attr_value(gimli::DW_AT_data_member_location)
                        .and_then(|v| v.udata_value())
                        .unwrap_or(0);
                    let Some(name) = name_of(entry) else { continue };
                    self.count += 1;
                    if self.count > MAX_MEMBERS {
                        return Err(DebugInfoError::Malformed(
                            "the debug information is unreasonably large".to_string(),
                        ));
                    }
                    self.by_struct
                        .entry(owner.clone())
                        .or_default()
                        .push((offset, name));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The member of struct `name` that holds byte `offset`: the last one that starts at or
    /// before it (an array member holds its elements' offsets).
    pub(crate) fn member_at(&self, name: &str, offset: u64) -> Option<&str> {
        self.by_struct
            .get(name)?
            .iter()
            .filter(|(o, _)| *o <= offset)
            .max_by_key(|(o, _)| *o)
            .map(|(_, m)| m.as_str())
    }
}

#[cfg(test)]
mod tests {
    use crate::debuginfo::DebugInfo;

    #[test]
    fn a_context_offset_names_its_member() {
        let f = fixtures::get("modified_context_pointer_if_else").expect("fixture");
        let debug = DebugInfo::parse(f.object).expect("parses");
        assert_eq!(debug.struct_member_at("__sk_buff", 8), Some("mark"));
        assert_eq!(debug.struct_member_at("__sk_buff", 32), Some("priority"));
        // A byte inside a member is that member's; no such struct is nothing.
        assert_eq!(debug.struct_member_at("__sk_buff", 33), Some("priority"));
        assert_eq!(debug.struct_member_at("no_such_struct", 0), None);
    }
}
