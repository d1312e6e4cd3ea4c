// SPDX-License-Identifier: GPL-2.0

//! Spectre v1 guards in the generated machine code (Documentation/kwasm/
//! design.rst, "Speculation").
//!
//! Each test compiles small functions whose wasm parameters are indices an
//! attacker chooses, decodes the x86-64 code of the path that does not trap
//! and follows, register by register, what depends on those parameters:
//!
//! - a value computed from a parameter is *unguarded* until a `cmov` whose
//!   flags come from a comparison of it (the bounds check) selects it;
//!   then it is *guarded*;
//! - a value loaded from a guarded address is an element: a *funcref* whose
//!   type is not checked yet; a load at its `type_id` field gives a *type
//!   id*, and a `cmov` on a funcref whose flags come from comparing a type
//!   id (the signature check) gives a *checked funcref*;
//! - what is loaded through a checked funcref is *code*.
//!
//! A memory access at an unguarded address, a funcref dereferenced anywhere
//! but at its `type_id`, or an indirect call or jump through a value that
//! depends on a parameter (other than code, or a jump-table entry read at
//! a guarded index) is reported:
//! under speculation past the trap branch, that is exactly the access that
//! goes out of bounds (or calls a function of the wrong type).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Formatter, Instruction, InstructionInfoFactory,
    IntelFormatter, Mnemonic, OpAccess, OpKind, Register,
};
use kwasm_abi::{vmfuncref, CompiledModule, ExportKind, Symbol};
use kwasm_compiler::{compile, BranchForms, Config, IndirectBranch, IsaFeatures};

/// What a register (or spilled stack slot) holds, ordered so that combining
/// two values keeps the more dangerous class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// Independent of the wasm parameters.
    Clean,
    /// Loaded through a checked funcref (callee code or vmctx).
    Code,
    /// A funcref that passed the signature check through a cmov.
    Checked,
    /// An index or address clamped by a cmov on its bounds check.
    Guarded,
    /// `type_id` read from an unchecked funcref.
    TypeId,
    /// A table element, type not checked.
    Funcref,
    /// Computed from a wasm parameter, not clamped.
    Unguarded,
}

/// Result of following one function.
#[derive(Default)]
struct Report {
    /// Accesses at an address formed from an unguarded index, or unchecked
    /// funcref uses.
    violations: Vec<String>,
    /// Memory accesses at guarded addresses.
    guarded_accesses: usize,
    /// Loads through a checked funcref.
    checked_funcref_loads: usize,
    /// Indirect calls whose target was loaded through a checked funcref.
    checked_calls: usize,
    /// The instructions followed, with the class each one produced.
    listing: String,
}

fn full(r: Register) -> Register {
    r.full_register()
}

fn reads(a: OpAccess) -> bool {
    matches!(
        a,
        OpAccess::Read | OpAccess::CondRead | OpAccess::ReadWrite | OpAccess::ReadCondWrite
    )
}

fn writes(a: OpAccess) -> bool {
    matches!(
        a,
        OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
    )
}

fn is_cmov(ins: &Instruction) -> bool {
    format!("{:?}", ins.mnemonic()).starts_with("Cmov")
}

/// SysV registers of the first five wasm parameters (`rdi` is the vmctx).
const PARAM_REGS: [Register; 5] = [
    Register::RSI,
    Register::RDX,
    Register::RCX,
    Register::R8,
    Register::R9,
];

/// General-purpose registers by x86 encoding (thunk relocations name them so).
const GPRS: [Register; 16] = [
    Register::RAX,
    Register::RCX,
    Register::RDX,
    Register::RBX,
    Register::RSP,
    Register::RBP,
    Register::RSI,
    Register::RDI,
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
    Register::R12,
    Register::R13,
    Register::R14,
    Register::R15,
];

/// Registers a call clobbers.
const CALLER_SAVED: [Register; 9] = [
    Register::RAX,
    Register::RCX,
    Register::RDX,
    Register::RSI,
    Register::RDI,
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
];

/// Follows the fall-through path of the code of function `export` (up to
/// its first `ret`), with its first `nparams` wasm parameters unguarded.
fn follow(m: &CompiledModule, export: &str, nparams: usize) -> Report {
    let Some(ExportKind::Func(f)) = m.export(export) else {
        panic!("no function export {export}")
    };
    let (start, len) = m.funcs[(f - m.num_imported_funcs) as usize];
    let code = &m.code[start as usize..(start + len) as usize];
    let mut decoder = Decoder::with_ip(64, code, u64::from(start), DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    let mut factory = InstructionInfoFactory::new();

    let mut regs: BTreeMap<Register, Class> = BTreeMap::new();
    for r in PARAM_REGS.iter().take(nparams) {
        regs.insert(*r, Class::Unguarded);
    }
    // Spill slots, by (base register, displacement).
    let mut slots: BTreeMap<(Register, u64), Class> = BTreeMap::new();
    // Class of the inputs of the last instruction that wrote the flags, and
    // where it was.
    let mut flags = (Class::Clean, 0u64);
    let mut report = Report::default();
    let mut ins = Instruction::default();
    // Under the thunk forms an indirect call is `call rel32` to the thunk
    // for its register: by field offset, that register.
    let thunks: BTreeMap<u64, Register> = m
        .relocs
        .iter()
        .filter_map(|r| match r.symbol {
            Symbol::IndirectThunk(reg) => Some((u64::from(r.offset), GPRS[usize::from(reg)])),
            _ => None,
        })
        .collect();

    while decoder.can_decode() {
        decoder.decode_out(&mut ins);
        let mut text = String::new();
        fmt.format(&ins, &mut text);
        let class_of = |regs: &BTreeMap<Register, Class>, r: Register| -> Class {
            if r == Register::None {
                Class::Clean
            } else {
                regs.get(&full(r)).copied().unwrap_or(Class::Clean)
            }
        };
        let info = factory.info(&ins).clone();

        // Register operands read, the memory operand, registers written.
        let mut read = Class::Clean;
        let mut read_regs = Vec::new();
        let mut written = Vec::new();
        let mut mem: Option<(Class, OpAccess)> = None;
        for i in 0..ins.op_count() {
            let access = info.op_access(i);
            match ins.op_kind(i) {
                OpKind::Register => {
                    let r = full(ins.op_register(i));
                    if reads(access) {
                        read = read.max(class_of(&regs, r));
                        read_regs.push(r);
                    }
                    if writes(access) {
                        written.push(r);
                    }
                }
                OpKind::Memory => {
                    let addr =
                        class_of(&regs, ins.memory_base()).max(class_of(&regs, ins.memory_index()));
                    mem = Some((addr, access));
                }
                _ => {}
            }
        }

        let mut note = String::new();
        let mut loaded = Class::Clean;
        if let Some((addr, access)) = mem {
            let disp = ins.memory_displacement64();
            let is_slot = matches!(ins.memory_base(), Register::RSP | Register::RBP)
                && ins.memory_index() == Register::None;
            if ins.mnemonic() == Mnemonic::Lea {
                read = read.max(addr);
            } else {
                match addr {
                    Class::Unguarded => {
                        let _ = write!(
                            note,
                            "VIOLATION: memory access at an address computed from a wasm \
                             index with no cmov after its bounds compare (last compare of \
                             it: {:#x})",
                            flags.1
                        );
                        report.violations.push(format!("{:#x}: {text}", ins.ip()));
                    }
                    Class::Funcref | Class::TypeId
                        if disp != vmfuncref::TYPE_ID as u64 || addr == Class::TypeId =>
                    {
                        let _ = write!(
                            note,
                            "VIOLATION: reads through a funcref before a cmov on its \
                             signature check"
                        );
                        report.violations.push(format!("{:#x}: {text}", ins.ip()));
                    }
                    Class::Guarded => report.guarded_accesses += 1,
                    Class::Checked => report.checked_funcref_loads += 1,
                    _ => {}
                }
                loaded = match addr {
                    Class::Guarded => Class::Funcref,
                    Class::Funcref if disp == vmfuncref::TYPE_ID as u64 => Class::TypeId,
                    Class::Funcref => Class::Funcref,
                    Class::Checked => Class::Code,
                    _ if is_slot => slots
                        .get(&(ins.memory_base(), disp))
                        .copied()
                        .unwrap_or(Class::Clean),
                    _ => Class::Clean,
                };
                if reads(access) {
                    read = read.max(loaded);
                }
                if writes(access) && is_slot {
                    slots.insert((ins.memory_base(), disp), read);
                }
            }
        }

        // The class of what the instruction writes.
        let zero_idiom = matches!(ins.mnemonic(), Mnemonic::Xor | Mnemonic::Sub)
            && read_regs.len() == 2
            && read_regs[0] == read_regs[1];
        let mut result = if zero_idiom { Class::Clean } else { read };
        if is_cmov(&ins) {
            // Either operand may end up in the destination.
            if let Some(dst) = written.first() {
                read = read.max(class_of(&regs, *dst));
                result = read;
            }
            if read == Class::Unguarded && flags.0 == Class::Unguarded {
                result = Class::Guarded;
                let _ = write!(note, "guard: cmov on the compare at {:#x}", flags.1);
            } else if read == Class::Funcref && flags.0 == Class::TypeId {
                result = Class::Checked;
                let _ = write!(
                    note,
                    "guard: cmov on the signature compare at {:#x}",
                    flags.1
                );
            }
        }

        let thunk = thunks.get(&(ins.next_ip() - 4)).copied();
        let flow = match thunk {
            Some(_) if ins.mnemonic() == Mnemonic::Call => FlowControl::IndirectCall,
            Some(_) => FlowControl::IndirectBranch,
            None => ins.flow_control(),
        };
        match flow {
            FlowControl::IndirectCall => {
                let target = if let Some(r) = thunk {
                    class_of(&regs, r)
                } else if ins.op_kind(0) == OpKind::Register {
                    class_of(&regs, ins.op_register(0))
                } else {
                    loaded
                };
                match target {
                    Class::Code => report.checked_calls += 1,
                    Class::Clean => {}
                    other => {
                        let _ = write!(
                            note,
                            "VIOLATION: indirect call through {other:?}, not through a \
                             signature-checked funcref"
                        );
                        report.violations.push(format!("{:#x}: {text}", ins.ip()));
                    }
                }
                for r in CALLER_SAVED {
                    regs.remove(&r);
                }
            }
            FlowControl::IndirectBranch => {
                // A jump table (`br_table`): the same rule as a call target,
                // and what follows is table data, not code.
                let target = if let Some(r) = thunk {
                    class_of(&regs, r)
                } else if ins.op_kind(0) == OpKind::Register {
                    class_of(&regs, ins.op_register(0))
                } else {
                    loaded
                };
                if !matches!(target, Class::Clean | Class::Funcref) {
                    let _ = write!(note, "VIOLATION: indirect jump through {target:?}");
                    report.violations.push(format!("{:#x}: {text}", ins.ip()));
                }
                let _ = writeln!(report.listing, "{:6x}: {text:<40} {note}", ins.ip());
                break;
            }
            FlowControl::Return | FlowControl::UnconditionalBranch => {
                let _ = writeln!(report.listing, "{:6x}: {text}", ins.ip());
                break;
            }
            _ => {
                for r in &written {
                    regs.insert(*r, result);
                }
            }
        }
        if ins.rflags_modified() != 0 {
            flags = (read, ins.ip());
        }
        let shown = if written.is_empty() {
            String::new()
        } else {
            format!("{result:?}")
        };
        let _ = writeln!(
            report.listing,
            "{:6x}: {text:<40} {shown:<10} {note}",
            ins.ip()
        );
    }
    report
}

fn module(src: &str, features: IsaFeatures, branches: BranchForms) -> CompiledModule {
    let wasm = wat::parse_str(src).expect("wat");
    let config = Config {
        features,
        branches,
        verify: true,
        ..Config::default()
    };
    compile(&wasm, &config).unwrap_or_else(|e| panic!("compile: {e}"))
}

/// The code shapes the compiler produces: baseline and every optional ISA
/// extension (BMI2 shifts, AVX encodings), and the branch forms a
/// mitigated kernel asks for (design.rst, "Indirect branches").
fn configs() -> [(&'static str, IsaFeatures, BranchForms); 4] {
    let lfence = BranchForms {
        indirect: IndirectBranch::Lfence,
        ibt: true,
        ..BranchForms::default()
    };
    [
        ("baseline", IsaFeatures::baseline(), BranchForms::default()),
        ("all features", IsaFeatures::all(), BranchForms::default()),
        (
            "retpolines, return thunk, SLS, IBT",
            IsaFeatures::all(),
            BranchForms::hardened(),
        ),
        ("lfence, IBT", IsaFeatures::baseline(), lfence),
    ]
}

/// What a function must show: how many guarded accesses at least, and for
/// `call_indirect`, checked funcref loads and calls.
struct Expect {
    export: &'static str,
    nparams: usize,
    guarded_accesses: usize,
    checked_calls: usize,
}

const fn expect(export: &'static str, guarded_accesses: usize) -> Expect {
    Expect {
        export,
        nparams: 1,
        guarded_accesses,
        checked_calls: 0,
    }
}

/// Checks every function of `src` listed in `cases`; the panic message
/// shows what was expected and the annotated code that was found.
fn check(src: &str, cases: &[Expect]) {
    check_in(src, cases, &configs());
}

/// [`check`] in the given code shapes only.
fn check_in(src: &str, cases: &[Expect], configs: &[(&str, IsaFeatures, BranchForms)]) {
    let mut failures = String::new();
    for &(config, features, branches) in configs {
        let m = module(src, features, branches);
        for c in cases {
            let r = follow(&m, c.export, c.nparams);
            let mut wrong = Vec::new();
            if !r.violations.is_empty() {
                wrong.push(format!(
                    "expected no access whose address depends on an unclamped index or an \
                     unchecked funcref, found {:?}",
                    r.violations
                ));
            }
            if r.guarded_accesses < c.guarded_accesses {
                wrong.push(format!(
                    "expected at least {} access(es) at an address clamped by a cmov on the \
                     bounds compare, found {}",
                    c.guarded_accesses, r.guarded_accesses
                ));
            }
            if c.checked_calls > 0
                && (r.checked_calls != c.checked_calls || r.checked_funcref_loads < 2)
            {
                wrong.push(format!(
                    "expected {} indirect call(s) through code loaded from a funcref selected \
                     by a cmov on the signature compare (and its code and vmctx loads), found \
                     {} call(s) and {} load(s)",
                    c.checked_calls, r.checked_calls, r.checked_funcref_loads
                ));
            }
            if !wrong.is_empty() {
                let _ = writeln!(
                    failures,
                    "\n== {} ({config}):\n  {}\n{}",
                    c.export,
                    wrong.join("\n  "),
                    r.listing
                );
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

const TABLES: &str = r#"
  (type $t (func (param i32) (result i32)))
  (table $funcs 10 funcref)
  (table $externs 10 externref)
  (func $callee (type $t) (local.get 0))
  (elem (table $funcs) (i32.const 0) func $callee)
"#;

#[test]
fn table_index_is_clamped_before_every_element_load() {
    let src = format!(
        r#"(module {TABLES}
          (func (export "get") (param i32) (result funcref)
            (table.get $funcs (local.get 0)))
          (func (export "get_externref_sum") (param i32 i32) (result externref)
            (table.get $externs (i32.add (local.get 0) (local.get 1))))
          (func (export "set") (param i32)
            (table.set $funcs (local.get 0) (ref.null func)))
          (func (export "set_value") (param i32 externref)
            (table.set $externs (local.get 0) (local.get 1)))
          (func (export "get_twice") (param i32 i32) (result i32)
            (ref.is_null (table.get $funcs (local.get 0)))
            (ref.is_null (table.get $externs (local.get 1)))
            (i32.add))
          (func (export "call_indirect") (param i32) (result i32)
            (call_indirect $funcs (type $t) (i32.const 7) (local.get 0))))"#
    );
    check(
        &src,
        &[
            expect("get", 1),
            Expect {
                nparams: 2,
                ..expect("get_externref_sum", 1)
            },
            expect("set", 1),
            Expect {
                nparams: 2,
                ..expect("set_value", 1)
            },
            Expect {
                nparams: 2,
                ..expect("get_twice", 2)
            },
            expect("call_indirect", 1),
        ],
    );
}

#[test]
fn call_indirect_calls_only_through_a_signature_checked_funcref() {
    let src = format!(
        r#"(module {TABLES}
          (func (export "call_indirect") (param i32) (result i32)
            (call_indirect $funcs (type $t) (i32.const 7) (local.get 0)))
          (func (export "call_indirect_arg") (param i32 i32) (result i32)
            (call_indirect $funcs (type $t) (local.get 1) (local.get 0))))"#
    );
    check(
        &src,
        &[
            Expect {
                checked_calls: 1,
                ..expect("call_indirect", 1)
            },
            Expect {
                nparams: 2,
                checked_calls: 1,
                ..expect("call_indirect_arg", 1)
            },
        ],
    );
}

#[test]
fn heap_access_past_the_guard_uses_an_address_clamped_after_its_bounds_check() {
    // Every access whose static offset plus size exceeds the 2 GiB guard.
    let src = r#"(module
      (memory 1)
      (func (export "load_2g") (param i32) (result i32)
        (i32.load offset=0x80000000 (local.get 0)))
      (func (export "load_crossing_guard") (param i32) (result i32)
        (i32.load offset=0x7ffffffe (local.get 0)))
      (func (export "load_top") (param i32) (result i64)
        (i64.load offset=0xfffffff8 (local.get 0)))
      (func (export "load8_top") (param i32) (result i32)
        (i32.load8_s offset=0xffffffff (local.get 0)))
      (func (export "load_f64") (param i32) (result f64)
        (f64.load offset=0x90000000 (local.get 0)))
      (func (export "store_top") (param i32)
        (i64.store offset=0xfffffff8 (local.get 0) (i64.const 5)))
      (func (export "store8_2g") (param i32 i32)
        (i32.store8 offset=0x80000000 (local.get 0) (local.get 1)))
      (func (export "store_f32") (param i32)
        (f32.store offset=0xa0000000 (local.get 0) (f32.const 1))))"#;
    check(
        src,
        &[
            expect("load_2g", 1),
            expect("load_crossing_guard", 1),
            expect("load_top", 1),
            expect("load8_top", 1),
            expect("load_f64", 1),
            expect("store_top", 1),
            Expect {
                nparams: 2,
                ..expect("store8_2g", 1)
            },
            expect("store_f32", 1),
        ],
    );
}

/// The follower is not vacuous: an access inside the guard region is
/// formed from the raw wasm address (by design: the guard pages fault even
/// speculatively, so it needs no check), and it must be reported as such.
#[test]
fn checker_reports_an_index_dependent_access_without_cmov() {
    let src = r#"(module
      (memory 1)
      (func (export "load_in_guard") (param i32) (result i32)
        (i32.load offset=16 (local.get 0))))"#;
    for (config, features, branches) in configs() {
        let m = module(src, features, branches);
        let r = follow(&m, "load_in_guard", 1);
        assert_eq!(
            (r.violations.len(), r.guarded_accesses),
            (1, 0),
            "expected the in-guard load reported as an unclamped access and nothing \
             guarded ({config}), found:\n{}",
            r.listing
        );
    }
}

/// `br_table` is clamped by Cranelift's own lowering (a cmov to the default
/// entry before the jump-table load); this keeps it that way across
/// Cranelift upgrades.
#[test]
fn br_table_index_is_clamped_before_the_jump_table_load() {
    let src = r#"(module
      (func (export "br_table") (param i32) (result i32)
        (block (block (block (block
          (br_table 0 1 2 3 (local.get 0)))
          (return (i32.const 10)))
          (return (i32.const 11)))
          (return (i32.const 12)))
        (i32.const 13)))"#;
    // The other forms have no jump table (branch_forms.rs checks that).
    let with_tables: Vec<_> = configs()
        .into_iter()
        .filter(|c| c.2.jump_tables())
        .collect();
    assert!(!with_tables.is_empty());
    check_in(src, &[expect("br_table", 1)], &with_tables);
}
