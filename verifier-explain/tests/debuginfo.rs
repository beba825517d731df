//! The ELF/DWARF layer on real objects: the fixtures (clang 14, `-O2 -g`) and the objects in
//! `tests/data/` (built from `subprogs.bpf.c`, see its header). Expected lines and registers
//! were read off `llvm-objdump -dl` and `llvm-dwarfdump --debug-info --debug-loclists`.
//!
//! The `fuzz` module feeds random bytes and damaged fixture objects through parse, layout and
//! every query, and replays the inputs kept in `tests/corpus/elf/`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use object::{Object as _, ObjectSection as _};
use verifier_explain::debuginfo::{
    DebugInfo, DebugInfoError, InsnAddr, Place, ProgramLayout, Variable,
};

fn fixture(name: &str) -> (DebugInfo, &'static fixtures::Fixture) {
    let f = fixtures::get(name).unwrap_or_else(|| panic!("no fixture {name}"));
    (DebugInfo::parse(f.object).expect("fixture parses"), f)
}

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The address of instruction `idx` of `program`.
fn at(info: &DebugInfo, program: &str, idx: u32) -> InsnAddr {
    info.layout(program)
        .unwrap()
        .address(idx)
        .unwrap_or_else(|| panic!("{program} has no instruction {idx}"))
}

fn var<'a>(vars: &'a [Variable], name: &str) -> &'a Variable {
    vars.iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no variable {name} in {vars:#?}"))
}

fn names(vars: &[Variable]) -> Vec<&str> {
    vars.iter().map(|v| v.name.as_str()).collect()
}

fn summary(layout: &ProgramLayout) -> Vec<(&str, u32, u32, &str, u64)> {
    layout
        .functions
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.start,
                f.len,
                f.section_name.as_str(),
                f.section_offset,
            )
        })
        .collect()
}

#[test]
fn single_function_layout() {
    let (info, _) = fixture("packet_no_bounds_check");
    assert_eq!(info.programs(), vec!["packet_no_bounds_check"]);
    let layout = info.layout("packet_no_bounds_check").unwrap();
    assert_eq!(
        summary(&layout),
        vec![("packet_no_bounds_check", 0, 9, "xdp", 0)]
    );
    assert_eq!(layout.len(), 9);
    let section = layout.functions[0].section;
    assert_eq!(
        layout.address(8),
        Some(InsnAddr {
            section,
            offset: 64
        })
    );
    assert_eq!(layout.address(9), None);
    assert_eq!(
        layout.function_at(4).map(|f| f.name.as_str()),
        Some("packet_no_bounds_check")
    );
    for idx in 0..layout.len() {
        assert_eq!(layout.index_of(layout.address(idx).unwrap()), Some(idx));
    }
    assert_eq!(
        layout.index_of(InsnAddr {
            section,
            offset: 72
        }),
        None
    );
    assert_eq!(
        layout.index_of(InsnAddr {
            section: section + 1,
            offset: 0
        }),
        None
    );
    // `r1 = *(u32 *)(r1 + 0)`: LDX|W|MEM, dst r1, src r1.
    assert_eq!(
        info.instruction(layout.address(0).unwrap()),
        Some([0x61, 0x11, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        info.instruction(InsnAddr {
            section,
            offset: 72
        }),
        None
    );
}

#[test]
fn subprogram_layout_appends_callees_depth_first_at_first_call() {
    let info = DebugInfo::parse(&data("subprogs.bpf.o")).unwrap();
    assert_eq!(info.programs(), vec!["only_leaf", "with_subprogs"]);
    // with_subprogs calls bump (which calls leaf) at insn 6, then passes loop_step (which also
    // calls leaf) to bpf_loop at insn 10: bump, then leaf from inside bump, then loop_step.
    let layout = info.layout("with_subprogs").unwrap();
    assert_eq!(
        summary(&layout),
        vec![
            ("with_subprogs", 0, 20, "xdp", 0),
            ("bump", 20, 15, ".text", 0),
            ("leaf", 35, 4, ".text", 0xe0),
            ("loop_step", 39, 13, ".text", 0x78),
        ]
    );
    assert_eq!(layout.len(), 52);
    let text = layout.functions[1].section;
    assert_eq!(
        layout.address(36),
        Some(InsnAddr {
            section: text,
            offset: 0xe8
        })
    );
    assert_eq!(
        layout.index_of(InsnAddr {
            section: text,
            offset: 0x80
        }),
        Some(40)
    );
    let layout = info.layout("only_leaf").unwrap();
    assert_eq!(
        summary(&layout),
        vec![
            ("only_leaf", 0, 4, "classifier", 0),
            ("leaf", 4, 4, ".text", 0xe0)
        ]
    );
    // Without debug information the layout is the same.
    let bare = DebugInfo::parse(&data("nodebug.bpf.o")).unwrap();
    assert_eq!(
        summary(&bare.layout("with_subprogs").unwrap()),
        summary(&info.layout("with_subprogs").unwrap())
    );
}

/// The program `name` as aya-obj links it.
fn aya_linked(bytes: &[u8], name: &str) -> Vec<aya_obj::generated::bpf_insn> {
    let text_sections: HashSet<usize> = object::File::parse(bytes)
        .unwrap()
        .sections()
        .filter(|s| s.name().is_ok_and(|n| n.starts_with(".text")))
        .map(|s| s.index().0)
        .collect();
    let mut obj = aya_obj::Object::parse(bytes).unwrap();
    obj.relocate_calls(&text_sections).unwrap();
    let key = obj.programs[name].function_key();
    obj.functions[&key].instructions.clone()
}

/// Checks a layout against aya-obj's linked instruction stream: same length, same bytes in
/// every slot (the immediates of function references aside, which the linker rewrites), and
/// every rewritten reference lands on the start of a function of the layout.
fn assert_layout_matches_aya(bytes: &[u8], program: &str) {
    if aya_obj::Object::parse(bytes).is_err() {
        // aya-obj refuses objects that use a symbol they do not define (the unknown_map
        // fixture): there is no linked program to compare with.
        return;
    }
    let info = DebugInfo::parse(bytes).unwrap();
    let layout = info.layout(program).unwrap();
    let linked = aya_linked(bytes, program);
    assert_eq!(layout.len() as usize, linked.len(), "{program}: length");
    let starts: HashSet<u32> = layout.functions.iter().map(|f| f.start).collect();
    for (idx, insn) in linked.iter().enumerate() {
        let idx = idx as u32;
        let ours = info.instruction(layout.address(idx).unwrap()).unwrap();
        assert_eq!(ours[0], insn.code, "{program}: opcode of insn {idx}");
        assert_eq!(
            i16::from_le_bytes([ours[2], ours[3]]),
            insn.off,
            "{program}: off of {idx}"
        );
        assert_eq!(ours[1] & 0x0f, insn.dst_reg(), "{program}: dst of {idx}");
        let is_call = insn.code == 0x85 && insn.src_reg() == 1;
        let is_func_ref = insn.code == 0x18 && insn.src_reg() == 4; // BPF_PSEUDO_FUNC
        if is_call || is_func_ref {
            let target = (idx as i64 + i64::from(insn.imm) + 1) as u32;
            assert!(
                starts.contains(&target),
                "{program}: insn {idx} references {target}, not a function start in {layout:?}"
            );
        } else {
            assert_eq!(ours[1] >> 4, insn.src_reg(), "{program}: src of {idx}");
            if insn.code != 0x18 {
                // ld_imm64 of maps get their map fd patched later; calls to helpers keep theirs.
                assert_eq!(
                    i32::from_le_bytes([ours[4], ours[5], ours[6], ours[7]]),
                    insn.imm,
                    "{program}: imm of {idx}"
                );
            }
        }
    }
}

#[test]
fn subprogram_layout_equals_aya_obj_linking() {
    let bytes = data("subprogs.bpf.o");
    assert_layout_matches_aya(&bytes, "with_subprogs");
    assert_layout_matches_aya(&bytes, "only_leaf");
}

#[test]
fn every_fixture_layout_equals_aya_obj_linking() {
    // aya-obj alone takes a kfunc call (`call -1` relocated against an undefined `__ksym`
    // symbol) for a call to a local function it cannot find; bpf-load marks those calls as
    // kfunc calls before linking, so objects with kfuncs are checked by loading them instead.
    for f in fixtures::ALL
        .iter()
        .filter(|f| !f.source.contains("__ksym"))
    {
        let info = DebugInfo::parse(f.object).unwrap();
        for program in info.programs() {
            assert_layout_matches_aya(f.object, &program);
        }
    }
}

#[test]
fn source_at_gives_the_line_of_the_instruction() {
    let (info, f) = fixture("packet_no_bounds_check");
    // llvm-objdump -dl:
    //   ; packet_no_bounds_check.bpf.c:11
    //        0:  r1 = *(u32 *)(r1 + 0)
    //   ; packet_no_bounds_check.bpf.c:15
    //        1:  r2 = *(u8 *)(r1 + 12)      <- the load of eth->h_proto the verifier rejects
    //   ; packet_no_bounds_check.bpf.c:18
    //        6:  if r1 == 1544 goto +1
    let loc = info
        .source_at(at(&info, "packet_no_bounds_check", 1))
        .unwrap();
    assert_eq!(loc.file, PathBuf::from(f.source_path));
    assert_eq!((loc.line, loc.column), (f.fault_line.unwrap(), 11));
    assert_eq!(loc.function, "packet_no_bounds_check");
    assert!(loc.inlined.is_empty());
    let line = |idx| {
        info.source_at(at(&info, "packet_no_bounds_check", idx))
            .unwrap()
            .line
    };
    let declares_data = f
        .source
        .lines()
        .position(|l| l.contains("void *data ="))
        .unwrap() as u32
        + 1;
    assert_eq!(
        line(0),
        declares_data,
        "ctx->data is read on the line that declares data"
    );
    // The line table has line-0 rows (code the compiler made up); source_near falls back to
    // the nearest real line before them in the same function.
    let len = info.layout("packet_no_bounds_check").unwrap().len();
    let zero = (1..len).find(|&i| line(i) == 0).expect("a line-0 row");
    let before = (0..zero).rev().map(line).find(|&l| l > 0).unwrap();
    let near = info
        .source_near(at(&info, "packet_no_bounds_check", zero))
        .unwrap();
    assert_eq!(near.line, before);
    assert_eq!(
        info.source_line(&loc.file, loc.line).as_deref(),
        Some("\tif (eth->h_proto == bpf_htons(ETH_P_ARP)) // <- rejected here")
    );
    assert!(
        serde_json::to_string(&loc)
            .unwrap()
            .contains(&format!(r#""line":{},"column":11"#, loc.line))
    );
}

#[test]
fn source_at_in_subprograms_uses_their_own_rows() {
    let info = DebugInfo::parse(&data("subprogs.bpf.o")).unwrap();
    // Relative paths: the object was built with -fdebug-prefix-map=$PWD=. in verifier-explain/.
    let loc = info.source_at(at(&info, "with_subprogs", 36)).unwrap();
    assert_eq!(loc.file, PathBuf::from("tests/data/subprogs.bpf.c"));
    assert_eq!((loc.line, loc.function.as_str()), (21, "leaf"));
    // llvm-objdump -dl: `; subprogs.bpf.c:52` above `call 9` (insn 18 of .text = 0x90).
    let loc = info.source_at(at(&info, "with_subprogs", 42)).unwrap();
    assert_eq!(
        (loc.line, loc.column, loc.function.as_str()),
        (52, 13, "loop_step")
    );
    // Tests run in the crate directory, where the relative path resolves.
    assert_eq!(
        info.source_line(&loc.file, 52).as_deref(),
        Some("\tlc->sum += leaf(i);")
    );
}

#[test]
fn variables_at_the_faulting_load_name_the_registers() {
    let (info, _) = fixture("packet_no_bounds_check");
    let load = at(&info, "packet_no_bounds_check", 1);
    let vars = info.variables_at(load);
    assert_eq!(names(&vars), vec!["eth", "data"]);
    let eth = var(&vars, "eth");
    assert_eq!(eth.place, Place::Register(1));
    assert_eq!(eth.type_name.as_deref(), Some("struct ethhdr *"));
    let f = fixtures::get("packet_no_bounds_check").unwrap();
    let decl = f
        .source
        .lines()
        .position(|l| l.contains("struct ethhdr *eth ="))
        .unwrap() as u32
        + 1;
    assert_eq!(eth.decl_line, Some(decl));
    assert!(!eth.parameter && !eth.inlined);
    assert_eq!(eth.function, "packet_no_bounds_check");
    assert_eq!(var(&vars, "data").type_name.as_deref(), Some("void *"));
    assert_eq!(var(&vars, "data").place, Place::Register(1));
    // ctx lives in r1 only until r1 is overwritten by insn 0.
    let first = info.variables_at(at(&info, "packet_no_bounds_check", 0));
    let ctx = var(&first, "ctx");
    assert_eq!(ctx.place, Place::Register(1));
    assert!(ctx.parameter);
    assert_eq!(ctx.type_name.as_deref(), Some("struct xdp_md *"));
    let all = info.variables_in_scope(load);
    assert_eq!(names(&all), vec!["ctx", "eth", "data"]);
    assert_eq!(var(&all, "ctx").place, Place::OptimizedOut);
}

#[test]
fn map_lookup_result_is_in_r0_at_the_dereference() {
    let (info, _) = fixture("map_lookup_no_null_check");
    let layout = info.layout("map_lookup_no_null_check").unwrap();
    // The first use of `count`: the load `*count += 1` right after the helper call.
    let deref = (0..layout.len())
        .find(|&i| {
            let insn = info.instruction(layout.address(i).unwrap()).unwrap();
            insn[0] == 0x79 && insn[1] >> 4 == 0 // LDX DW from r0
        })
        .expect("a load through r0");
    let addr = layout.address(deref).unwrap();
    let marked = fixtures::get("map_lookup_no_null_check")
        .unwrap()
        .fault_line;
    assert_eq!(Some(info.source_at(addr).unwrap().line), marked);
    let count = var(&info.variables_at(addr), "count").clone();
    assert_eq!(count.place, Place::Register(0));
    assert_eq!(count.type_name.as_deref(), Some("__u64 *"));
}

#[test]
fn inlined_functions_give_their_variables_and_call_chain() {
    let (info, f) = fixture("ageing_refresh");
    // llvm-objdump -dl: insn 20 `if r1 == -1 goto` is ageing.h:34, inside bpf_maps_refresh
    // inlined at ageing_refresh.bpf.c:58:13; llvm-dwarfdump: old in r1, i constant 0,
    // last_seen in r8, now in r7 there.
    let addr = at(&info, "ageing_refresh", 20);
    let loc = info.source_at(addr).unwrap();
    assert!(
        loc.file.ends_with("bpf-maps/include/bpf_maps/ageing.h"),
        "{loc:?}"
    );
    assert!(
        !loc.file.to_string_lossy().contains(".."),
        "normalized path: {loc:?}"
    );
    assert_eq!((loc.line, loc.column), (34, 7));
    assert_eq!(loc.function, "bpf_maps_refresh");
    assert_eq!(loc.inlined.len(), 1);
    let call = &loc.inlined[0];
    assert_eq!(call.function, "bpf_maps_refresh");
    assert_eq!(call.call_file, PathBuf::from(f.source_path));
    assert_eq!((call.call_line, call.call_column), (58, 13));
    assert_eq!(
        info.source_line(&loc.file, 34).as_deref().map(str::trim),
        Some("if (old == BPF_MAPS_DYING)")
    );

    let vars = info.variables_at(addr);
    assert_eq!(
        names(&vars),
        vec!["old", "i", "last_seen", "now", "zero", "flow", "e", "now"]
    );
    let old = var(&vars, "old");
    assert_eq!(old.place, Place::Register(1));
    assert!(old.inlined && !old.parameter);
    assert_eq!(old.function, "bpf_maps_refresh");
    assert_eq!(old.type_name.as_deref(), Some("__u64"));
    assert_eq!(old.decl_line, Some(32));
    assert!(
        old.decl_file
            .as_ref()
            .unwrap()
            .ends_with("bpf_maps/ageing.h")
    );
    assert_eq!(var(&vars, "i").place, Place::Constant(0));
    let last_seen = var(&vars, "last_seen");
    assert_eq!(last_seen.place, Place::Register(8));
    assert!(last_seen.parameter && last_seen.inlined);
    assert_eq!(last_seen.type_name.as_deref(), Some("__u64 *"));
    let e = var(&vars, "e");
    assert_eq!(e.place, Place::Register(8));
    assert_eq!((e.function.as_str(), e.inlined), ("ageing_refresh", false));
    assert_eq!(e.type_name.as_deref(), Some("struct entry *"));

    // The second unrolled iteration: i is 1 there.
    let second = info.variables_at(at(&info, "ageing_refresh", 42));
    assert_eq!(var(&second, "i").place, Place::Constant(1));

    // Outside the inlined ranges the chain is empty again.
    let outside = info.source_at(at(&info, "ageing_refresh", 16)).unwrap();
    assert_eq!(
        (outside.line, outside.function.as_str()),
        (57, "ageing_refresh")
    );
    assert!(outside.inlined.is_empty());
}

#[test]
fn an_inlined_parameter_in_a_register() {
    let (info, _) = fixture("xdp_count");
    // classify() is inlined over insns 11..14; its `proto` parameter is in r2 there.
    let addr = at(&info, "xdp_count", 12);
    let loc = info.source_at(addr).unwrap();
    assert_eq!(loc.function, "classify");
    assert_eq!(
        (loc.inlined[0].call_line, loc.inlined[0].call_column),
        (52, 16)
    );
    let scope = info.variables_in_scope(addr);
    let proto = var(&scope, "proto");
    assert!(proto.parameter && proto.inlined);
    assert_eq!(proto.type_name.as_deref(), Some("__u16"));
    assert_eq!(proto.decl_line, Some(28));
    assert_eq!(proto.place, Place::Register(2));
    assert_eq!(names(&scope)[0], "proto", "innermost scope first");
    for outer in ["ctx", "data", "data_end", "eth", "class", "c"] {
        assert!(!var(&scope, outer).inlined, "{outer} belongs to xdp_count");
    }
}

#[test]
fn variables_an_inlined_instance_omits_are_optimized_out() {
    let info = DebugInfo::parse(&data("subprogs.bpf.o")).unwrap();
    // llvm-objdump -dl: insn 3 `w2 &= 7` is line 40, clamp_limit() inlined at line 59:44.
    // Its DWARF instance only has `wanted` (in r2); `unused_hint` and `dead` are only in the
    // abstract DIE.
    let addr = at(&info, "with_subprogs", 3);
    let loc = info.source_at(addr).unwrap();
    assert_eq!((loc.line, loc.function.as_str()), (40, "clamp_limit"));
    assert_eq!(
        (loc.inlined[0].call_line, loc.inlined[0].call_column),
        (59, 44)
    );
    let at_insn = info.variables_at(addr);
    assert_eq!(names(&at_insn), vec!["wanted", "ctx", "lc"]);
    let scope = info.variables_in_scope(addr);
    assert_eq!(
        names(&scope),
        vec!["wanted", "unused_hint", "dead", "ctx", "lc"]
    );
    assert_eq!(var(&scope, "wanted").place, Place::Register(2));
    let hint = var(&scope, "unused_hint");
    assert_eq!(hint.place, Place::OptimizedOut);
    assert!(hint.parameter && hint.inlined);
    assert_eq!(hint.decl_line, Some(36));
    let dead = var(&scope, "dead");
    assert_eq!(dead.place, Place::OptimizedOut);
    assert!(!dead.parameter);
    assert_eq!(dead.type_name.as_deref(), Some("__u32"));
}

#[test]
fn parameters_of_subprograms() {
    let info = DebugInfo::parse(&data("subprogs.bpf.o")).unwrap();
    // bump(slot, by): slot arrives in r1; by is always 1, so clang keeps it as a constant.
    let entry = at(&info, "with_subprogs", 20);
    let vars = info.variables_at(entry);
    let slot = var(&vars, "slot");
    assert_eq!(slot.place, Place::Register(1));
    assert!(slot.parameter);
    assert_eq!(slot.function, "bump");
    assert_eq!(slot.type_name.as_deref(), Some("__u32"));
    let by = var(&vars, "by");
    assert_eq!(by.place, Place::Constant(1));
    assert!(by.parameter);
    // loop_step(i, data): data moves from r2 to r6 after insn 0 of the callback.
    let data_at = |idx| {
        var(&info.variables_at(at(&info, "with_subprogs", idx)), "data")
            .place
            .clone()
    };
    assert_eq!(data_at(39), Place::Register(2));
    assert_eq!(data_at(40), Place::Register(6));
}

#[test]
fn stack_slot_variables_match_the_instructions() {
    let (info, _) = fixture("ageing_refresh");
    // insn 9: `*(u32 *)(r10 - 8) = r1` stores flow; insn 3 `*(u32 *)(r10 - 4) = r3` zero.
    let store = |idx| {
        let insn = info.instruction(at(&info, "ageing_refresh", idx)).unwrap();
        assert_eq!((insn[0], insn[1] & 0x0f), (0x63, 10), "STX W to r10");
        i64::from(i16::from_le_bytes([insn[2], insn[3]]))
    };
    let flow = var(&info.variables_at(at(&info, "ageing_refresh", 18)), "flow").clone();
    assert_eq!(flow.place, Place::Stack(store(9)));
    assert_eq!(flow.place, Place::Stack(-8));
    let zero = var(&info.variables_at(at(&info, "ageing_refresh", 75)), "zero").clone();
    assert_eq!(zero.place, Place::Stack(store(3)));
    // Before it is stored, zero is the constant 0.
    let early = var(&info.variables_at(at(&info, "ageing_refresh", 4)), "zero").clone();
    assert_eq!(early.place, Place::Constant(0));

    // A whole-scope DW_OP_fbreg location and one in a subprogram's own frame.
    let info = DebugInfo::parse(&data("subprogs.bpf.o")).unwrap();
    let lc = var(&info.variables_at(at(&info, "with_subprogs", 5)), "lc").clone();
    assert_eq!(lc.place, Place::Stack(-16));
    assert_eq!(lc.type_name.as_deref(), Some("struct loop_ctx"));
    let key = var(&info.variables_at(at(&info, "with_subprogs", 25)), "key").clone();
    assert_eq!(key.place, Place::Stack(-4));
}

#[test]
fn a_big_endian_object_gives_the_same_answers() {
    let little = DebugInfo::parse(&data("subprogs.bpf.o")).unwrap();
    let big = DebugInfo::parse(&data("subprogs.bpfeb.o")).unwrap();
    assert!(big.has_dwarf() && big.has_btf_lines());
    for program in ["with_subprogs", "only_leaf"] {
        let (l, b) = (
            little.layout(program).unwrap(),
            big.layout(program).unwrap(),
        );
        assert_eq!(summary(&l), summary(&b));
        for idx in 0..l.len() {
            let (la, ba) = (l.address(idx).unwrap(), b.address(idx).unwrap());
            assert_eq!(little.source_at(la), big.source_at(ba), "{program} {idx}");
            assert_eq!(
                little.variables_in_scope(la),
                big.variables_in_scope(ba),
                "{program} {idx}"
            );
        }
    }
}

#[test]
fn btf_line_info_is_the_fallback_without_dwarf() {
    let bytes = data("subprogs-btf-only.bpf.o");
    let info = DebugInfo::parse(&bytes).unwrap();
    assert!(!info.has_dwarf());
    assert!(info.has_btf_lines());
    let loc = info.source_at(at(&info, "with_subprogs", 36)).unwrap();
    assert_eq!(loc.file, PathBuf::from("tests/data/subprogs.bpf.c"));
    assert_eq!(
        (loc.line, loc.column, loc.function.as_str()),
        (21, 11, "leaf")
    );
    let loc = info.source_at(at(&info, "with_subprogs", 5)).unwrap();
    assert_eq!(loc.line, 61);
    assert!(info.variables_at(at(&info, "with_subprogs", 5)).is_empty());

    // When the source file cannot be read, the line text BTF embeds answers.
    let renamed = replace(
        &bytes,
        b"tests/data/subprogs.bpf.c",
        b"tests/data/subprogs.bpf.x",
    );
    let info = DebugInfo::parse(&renamed).unwrap();
    let loc = info.source_at(at(&info, "with_subprogs", 5)).unwrap();
    assert_eq!(loc.file, PathBuf::from("tests/data/subprogs.bpf.x"));
    assert_eq!(
        info.source_line(&loc.file, 61).as_deref(),
        Some("\tbump(ctx->ingress_ifindex, 1);")
    );
    // Line 60 is empty: BTF has no record of it.
    assert_eq!(info.source_line(&loc.file, 60), None);
}

fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut found = false;
    for i in 0..out.len().saturating_sub(from.len()) {
        if out[i..].starts_with(from) {
            out[i..i + to.len()].copy_from_slice(to);
            found = true;
        }
    }
    assert!(found);
    out
}

#[test]
fn an_object_without_g_has_no_debug_info_but_a_layout() {
    let info = DebugInfo::parse(&data("nodebug.bpf.o")).unwrap();
    assert!(!info.has_dwarf());
    assert!(!info.has_btf_lines());
    let addr = at(&info, "with_subprogs", 21);
    assert_eq!(info.source_at(addr), None);
    assert!(info.variables_at(addr).is_empty());
    assert!(info.variables_in_scope(addr).is_empty());
    assert!(info.instruction(addr).is_some());
}

#[test]
fn every_fixture_has_dwarf_and_btf_and_rows_for_every_instruction() {
    for f in fixtures::ALL {
        let info = DebugInfo::parse(f.object).unwrap();
        assert!(info.has_dwarf() && info.has_btf_lines(), "{}", f.name);
        for program in info.programs() {
            let layout = info.layout(&program).unwrap();
            for idx in 0..layout.len() {
                let loc = info.source_near(layout.address(idx).unwrap());
                assert!(
                    loc.is_some_and(|l| l.line > 0),
                    "{}: {program} insn {idx}",
                    f.name
                );
            }
        }
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let err = DebugInfo::parse(b"hello, not an object").unwrap_err();
    assert!(matches!(err, DebugInfoError::NotElf(_)), "{err:?}");
    assert!(err.to_string().starts_with("not an ELF file: "));

    let host = std::fs::read("/bin/true").unwrap();
    match DebugInfo::parse(&host).unwrap_err() {
        DebugInfoError::NotBpf { machine } => {
            let expected = format!("{:?}", object::File::parse(&*host).unwrap().architecture());
            assert_eq!(machine, expected);
        }
        other => panic!("{other:?}"),
    }

    let (info, _) = fixture("xdp_count");
    match info.layout("nope").unwrap_err() {
        DebugInfoError::NoSuchProgram { wanted, available } => {
            assert_eq!(wanted, "nope");
            assert_eq!(available, "xdp_count");
        }
        other => panic!("{other:?}"),
    }

    // A line table that gimli could not run (it would negate i64::MIN) is refused up front.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/elf/line-advance-i64-min.bin");
    match DebugInfo::parse(&std::fs::read(path).unwrap()).unwrap_err() {
        DebugInfoError::Malformed(what) => assert!(what.contains("advances the line"), "{what}"),
        other => panic!("{other:?}"),
    }

    // Without executable sections the object has no programs.
    let bare = clear_exec_flags(&data("nodebug.bpf.o"));
    assert!(matches!(
        DebugInfo::parse(&bare).unwrap_err(),
        DebugInfoError::NoPrograms
    ));
}

/// Clears SHF_EXECINSTR on every section of a little-endian ELF64.
fn clear_exec_flags(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let shoff = u64_at(bytes, 0x28) as usize;
    let (size, count) = (u16_at(bytes, 0x3a) as usize, u16_at(bytes, 0x3c) as usize);
    for i in 0..count {
        let flags = shoff + i * size + 8;
        let value = u64_at(&out, flags) & !4;
        out[flags..flags + 8].copy_from_slice(&value.to_le_bytes());
    }
    out
}

#[test]
fn debug_info_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<DebugInfo>();
    send_sync::<ProgramLayout>();
}

#[test]
fn source_line_handles_missing_files_and_lines() {
    let (info, f) = fixture("xdp_pass");
    let path = Path::new(f.source_path);
    assert_eq!(
        info.source_line(path, 9).as_deref(),
        Some("\treturn XDP_PASS;")
    );
    assert_eq!(info.source_line(path, 0), None);
    assert_eq!(info.source_line(path, 10_000), None);
    assert_eq!(info.source_line(Path::new("/nonexistent/x.c"), 1), None);
}

mod fuzz {
    //! Parse, layout and every query must return (an error or an answer) on any input.

    use super::*;
    use proptest::prelude::*;

    /// Everything a caller can ask, on every instruction of every program (bounded).
    fn exercise(bytes: &[u8]) {
        let Ok(info) = DebugInfo::parse(bytes) else {
            return;
        };
        let _ = format!("{info:?}");
        let _ = (info.has_dwarf(), info.has_btf_lines());
        for program in info.programs().iter().take(8) {
            let Ok(layout) = info.layout(program) else {
                continue;
            };
            let _ = layout.function_at(u32::MAX);
            let _ = layout.address(layout.len());
            for idx in 0..layout.len().min(2048) {
                let Some(addr) = layout.address(idx) else {
                    panic!(
                        "{program}: instruction {idx} below len {} has no address",
                        layout.len()
                    );
                };
                assert_eq!(layout.index_of(addr), Some(idx));
                let _ = info.instruction(addr);
                if let Some(loc) = info.source_at(addr) {
                    let _ = info.source_line(&loc.file, loc.line);
                }
                let _ = info.source_near(addr);
                let _ = info.variables_at(addr);
                let _ = info.variables_in_scope(addr);
                let odd = InsnAddr {
                    section: addr.section,
                    offset: addr.offset + 3,
                };
                let _ = (info.source_at(odd), info.variables_at(odd));
            }
        }
        for section in [0, 1, 2, 3, 4, usize::MAX] {
            for offset in [0, 8, u64::MAX] {
                let addr = InsnAddr { section, offset };
                let _ = (
                    info.instruction(addr),
                    info.source_at(addr),
                    info.source_near(addr),
                    info.variables_at(addr),
                    info.variables_in_scope(addr),
                );
            }
        }
    }

    /// The objects damaged inputs start from.
    fn seeds() -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = fixtures::ALL.iter().map(|f| f.object.to_vec()).collect();
        for name in [
            "subprogs.bpf.o",
            "nodebug.bpf.o",
            "subprogs-btf-only.bpf.o",
            "subprogs.bpfeb.o",
        ] {
            seeds.push(data(name));
        }
        seeds
    }

    fn corpus_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/elf")
    }

    #[test]
    fn corpus_inputs_do_not_panic() {
        let mut count = 0;
        for entry in std::fs::read_dir(corpus_dir()).unwrap() {
            let path = entry.unwrap().path();
            exercise(&std::fs::read(&path).unwrap());
            count += 1;
        }
        assert!(count > 0, "the corpus is empty");
    }

    #[test]
    fn undamaged_seeds_parse() {
        for seed in seeds() {
            assert!(DebugInfo::parse(&seed).is_ok());
            exercise(&seed);
        }
    }

    fn cases() -> u32 {
        std::env::var("VE_FUZZ_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256)
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: cases(),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// A seed with `flips` bytes replaced, each at `pos / u32::MAX` of the way through.
    fn damage(seed: usize, flips: &[(u32, u8)]) -> Vec<u8> {
        let seeds = seeds();
        let mut bytes = seeds[seed % seeds.len()].clone();
        let len = bytes.len();
        for &(pos, value) in flips {
            let at = (u64::from(pos) * len as u64 / (u64::from(u32::MAX) + 1)) as usize;
            bytes[at] = value;
        }
        bytes
    }

    /// The file ranges of the sections the debug layer reads (code, DWARF, BTF, relocations).
    fn interesting_ranges(bytes: &[u8]) -> Vec<(usize, usize)> {
        let file = object::File::parse(bytes).unwrap();
        file.sections()
            .filter(|s| {
                let name = s.name().unwrap_or("");
                name.starts_with(".debug")
                    || name.starts_with(".rel")
                    || name.starts_with(".BTF")
                    || s.kind() == object::SectionKind::Text
            })
            .filter_map(|s| s.file_range())
            .map(|(start, len)| (start as usize, len as usize))
            .filter(|(_, len)| *len > 0)
            .collect()
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn damaged_debug_sections(
            seed in 0usize..16,
            section in any::<u32>(),
            flips in proptest::collection::vec((any::<u32>(), any::<u8>()), 1..8),
        ) {
            // Damage inside one section the layer reads, so most inputs get past the ELF parser.
            let seeds = seeds();
            let mut bytes = seeds[seed % seeds.len()].clone();
            let ranges = interesting_ranges(&bytes);
            let (start, len) = ranges[section as usize % ranges.len()];
            for (pos, value) in flips {
                let at = start + (u64::from(pos) * len as u64 / (u64::from(u32::MAX) + 1)) as usize;
                bytes[at] = value;
            }
            exercise(&bytes);
        }

        #[test]
        fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            exercise(&bytes);
        }

        #[test]
        fn random_bytes_behind_an_elf_header(
            seed in 0usize..16,
            tail in proptest::collection::vec(any::<u8>(), 0..4096),
        ) {
            let seeds = seeds();
            let mut bytes = seeds[seed % seeds.len()][..64].to_vec();
            bytes.extend(tail);
            exercise(&bytes);
        }

        #[test]
        fn truncated_objects(seed in 0usize..16, keep in 0.0f64..1.0) {
            let seeds = seeds();
            let bytes = &seeds[seed % seeds.len()];
            exercise(&bytes[..(bytes.len() as f64 * keep) as usize]);
        }

        #[test]
        fn flipped_bytes(seed in 0usize..16, flips in proptest::collection::vec((any::<u32>(), any::<u8>()), 1..16)) {
            exercise(&damage(seed, &flips));
        }

        #[test]
        fn overwritten_words(seed in 0usize..16, words in proptest::collection::vec((any::<u32>(), any::<u32>()), 1..6)) {
            // Lengths, offsets and counts are 4-byte fields: overwrite whole ones.
            let seeds = seeds();
            let mut bytes = seeds[seed % seeds.len()].clone();
            let len = bytes.len();
            for (pos, value) in words {
                let at = (u64::from(pos) * len as u64 / (u64::from(u32::MAX) + 1)) as usize & !3;
                if at + 4 <= len {
                    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            exercise(&bytes);
        }
    }
}

#[test]
fn variables_carry_their_types_size_and_kind() {
    let (info, _) = fixture("map_value_pointer_to_data");
    let program = "map_value_pointer_to_data";
    let len = info.layout(program).unwrap().len();
    let vars = info.variables_in_scope(at(&info, program, len - 1));
    let layout = |name: &str| var(&vars, name).layout.expect("DWARF gives the type");
    // `__u32` through its typedef, a pointer (clang gives it no size), a struct pointer.
    assert_eq!(
        (layout("pid").size, layout("pid").aggregate),
        (Some(4), false)
    );
    assert_eq!(
        (layout("filename").size, layout("filename").aggregate),
        (Some(8), false)
    );
    assert_eq!(
        (layout("ctx").size, layout("ctx").aggregate),
        (Some(8), false)
    );
    let (info, _) = fixture("uninitialized_local");
    let program = "uninitialized_local";
    let len = info.layout(program).unwrap().len();
    let vars = info.variables_in_scope(at(&info, program, len - 1));
    let name = var(&vars, "name").layout.expect("an array's layout");
    // char name[64]: an aggregate of 64 bytes, from its element size and count.
    assert_eq!((name.size, name.aggregate), (Some(64), true));
}
