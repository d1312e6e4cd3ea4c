// SPDX-License-Identifier: GPL-2.0

//! Instance creation, segment application, import checks and builtins,
//! exercised without a compiler: the modules here have no code that ever
//! runs, and the platform is a mock backed by an ordinary heap buffer.

use std::cell::Cell;
use std::rc::Rc;

use kwasm_abi::*;
use kwasm_runtime::*;

/// A "reservation" of at most `cap` bytes in a heap buffer that never moves.
struct VecRegion {
    _buf: Vec<u8>,
    base: *mut u8,
    cap: usize,
}

impl MemoryRegion for VecRegion {
    fn base(&self) -> *mut u8 {
        self.base
    }
    fn grow(&mut self, _old: u64, new: u64) -> bool {
        new as usize <= self.cap
    }
}

struct Mock {
    cap_pages: usize,
    flags: u64,
    safepoints: Cell<u32>,
}

unsafe extern "C" fn never_called(_: *mut u8, _: u32, _: *mut u64) {
    std::process::abort();
}

impl Platform for Mock {
    type Region = VecRegion;
    type HostFunc = ();
    fn reserve_memory(&self, initial: u64) -> Option<VecRegion> {
        let cap = self.cap_pages * WASM_PAGE_SIZE as usize;
        (initial as usize <= cap).then(|| {
            let mut buf = vec![0; cap];
            VecRegion {
                base: buf.as_mut_ptr(),
                _buf: buf,
                cap,
            }
        })
    }
    fn table_growth_allowed(&self, _old: u64, new: u64) -> bool {
        new <= 1000
    }
    fn hostcall(&self) -> HostcallFn {
        never_called
    }
    fn safepoint_word(&self) -> (*const u64, u64) {
        (&self.flags, 1)
    }
    fn stack_limit(&self) -> u64 {
        0
    }
    fn safepoint(&self, _: &Instance<Self>) -> Result<(), Trap> {
        self.safepoints.set(self.safepoints.get() + 1);
        Err(Trap::Interrupted)
    }
}

fn platform() -> Rc<Mock> {
    Rc::new(Mock {
        cap_pages: 4,
        flags: 0,
        safepoints: Cell::new(0),
    })
}

fn void() -> FuncType {
    FuncType {
        params: vec![],
        results: vec![],
    }
}

/// A module with two (never executed) functions of type () -> ().
fn base_module() -> CompiledModule {
    CompiledModule {
        code: vec![0xcc; 32],
        types: vec![void()],
        func_types: vec![0, 0],
        funcs: vec![(0, 16), (16, 16)],
        trampolines: vec![0],
        ..Default::default()
    }
}

fn memory(min: u64, max: Option<u64>) -> Option<MemoryDesc> {
    Some(MemoryDesc {
        limits: Limits { min, max },
        imported: false,
    })
}

fn data(offset: i32, bytes: &[u8]) -> DataSegment {
    DataSegment {
        mode: SegmentMode::Active {
            table: 0,
            offset: ConstExpr::I32(offset),
        },
        bytes: bytes.to_vec(),
    }
}

fn instantiate(
    m: CompiledModule,
    imports: Vec<Extern<Mock>>,
) -> Result<Rc<Instance<Mock>>, InstantiateError<Mock>> {
    instantiate_with(&platform(), m, imports, &mut TypeRegistry::new())
}

fn instantiate_with(
    p: &Rc<Mock>,
    m: CompiledModule,
    imports: Vec<Extern<Mock>>,
    reg: &mut TypeRegistry,
) -> Result<Rc<Instance<Mock>>, InstantiateError<Mock>> {
    // A leaked, CODE_ALIGN-aligned copy of the code (never executed).
    let words = vec![0u128; m.code.len().div_ceil(16) + 2].leak();
    let mut code = words.as_mut_ptr() as *mut u8;
    code = code.wrapping_add(code.align_offset(CODE_ALIGN));
    // SAFETY: the leaked buffer lives forever and is never executed.
    unsafe { Instance::new(p, std::sync::Arc::new(m), code, imports, reg) }
}

fn read(inst: &Instance<Mock>, at: u64, n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    assert!(
        inst.memory().unwrap().read(at, &mut v),
        "read at {at} out of bounds"
    );
    v
}

fn call(inst: &Instance<Mock>, b: Builtin, args: &[u64]) -> Result<Vec<u64>, Trap> {
    let mut a = args.to_vec();
    a.resize(builtin_slots(b).max(1), 0);
    builtin(inst, b, &mut a).map(|()| a)
}

#[test]
fn vmctx_header_points_at_memory_funcs_and_type_ids() {
    let mut m = base_module();
    m.memory = memory(1, None);
    let inst = instantiate(m, vec![]).unwrap();
    // SAFETY: header offsets are inside the live instance's VMContext.
    let word = |off: i32| unsafe { *(inst.vmctx().add(off as usize) as *const u64) };
    let mem = inst.memory().unwrap();
    assert_eq!(
        word(vmctx::MEMORY),
        mem.vm_ptr() as u64,
        "MEMORY: expected the VMMemory"
    );
    assert_eq!(
        word(vmctx::FUNCS),
        inst.funcs().as_ptr() as u64,
        "FUNCS: expected the funcref array"
    );
    assert_eq!(
        word(vmctx::TYPE_IDS),
        inst.type_ids().as_ptr() as u64,
        "TYPE_IDS"
    );
    let f1 = inst.funcs()[1];
    assert_eq!(
        f1.vmctx,
        inst.vmctx(),
        "own function's vmctx: expected self"
    );
    assert_eq!(
        f1.code as usize - inst.code_base() as usize,
        16,
        "code = base + offset"
    );
    assert_eq!(
        f1.type_id,
        u64::from(inst.type_ids()[0]),
        "type_id: expected canonical id"
    );
    assert!(
        std::ptr::eq(
            // SAFETY: the vmctx of a live `Instance<Mock>`.
            unsafe { Instance::<Mock>::from_vmctx(inst.vmctx()) },
            &*inst
        ),
        "RUNTIME -> instance"
    );
}

#[test]
fn data_segments_apply_in_order_and_an_out_of_bounds_one_traps_keeping_earlier_writes() {
    let mut m = base_module();
    m.memory = memory(1, None);
    m.data = vec![
        data(0, b"ab"),
        data(1, b"XY"),
        data(65535, b"zz"),
        data(4, b"never"),
    ];
    let Err(InstantiateError::Trap(t, inst)) = instantiate(m, vec![]) else {
        panic!("expected a trap")
    };
    assert_eq!(
        t,
        Trap::MemoryOutOfBounds,
        "expected MemoryOutOfBounds, got {t:?}"
    );
    assert_eq!(
        read(&inst, 0, 8),
        b"aXY\0\0\0\0\0",
        "expected segments 0 and 1 applied, 3 not"
    );
}

#[test]
fn data_segment_ending_exactly_at_memory_end_is_in_bounds() {
    let mut m = base_module();
    m.memory = memory(1, None);
    m.data = vec![data(65534, b"ok"), data(65536, b"")];
    let inst = instantiate(m, vec![]).unwrap();
    assert_eq!(read(&inst, 65534, 2), b"ok");
}

#[test]
fn active_element_segments_write_funcrefs_and_out_of_bounds_traps() {
    let mut m = base_module();
    m.tables = vec![TableDesc {
        elem: RefType::FuncRef,
        limits: Limits { min: 3, max: None },
        imported: false,
    }];
    let seg = |off, items: Vec<ConstExpr>| ElemSegment {
        mode: SegmentMode::Active {
            table: 0,
            offset: ConstExpr::I32(off),
        },
        ty: RefType::FuncRef,
        items,
    };
    m.elements = vec![
        seg(
            0,
            vec![ConstExpr::RefFunc(1), ConstExpr::RefNull(RefType::FuncRef)],
        ),
        seg(2, vec![ConstExpr::RefFunc(0), ConstExpr::RefFunc(0)]),
    ];
    let Err(InstantiateError::Trap(t, inst)) = instantiate(m, vec![]) else {
        panic!("expected a trap")
    };
    assert_eq!(
        t,
        Trap::TableOutOfBounds,
        "expected TableOutOfBounds, got {t:?}"
    );
    let table = inst.table(0).unwrap();
    let f1 = &inst.funcs()[1] as *const VMFuncRef as u64;
    let got: Vec<_> = (0..3).map(|i| table.get(i).unwrap()).collect();
    assert_eq!(
        got,
        vec![f1, 0, 0],
        "expected [func1, null, null] (second segment not applied)"
    );
}

#[test]
fn table_init_reads_passive_segment_and_traps_after_elem_drop() {
    let mut m = base_module();
    m.tables = vec![TableDesc {
        elem: RefType::FuncRef,
        limits: Limits { min: 4, max: None },
        imported: false,
    }];
    m.elements = vec![
        ElemSegment {
            mode: SegmentMode::Passive,
            ty: RefType::FuncRef,
            items: vec![ConstExpr::RefFunc(0), ConstExpr::RefFunc(1)],
        },
        ElemSegment {
            mode: SegmentMode::Declared,
            ty: RefType::FuncRef,
            items: vec![ConstExpr::RefFunc(1)],
        },
    ];
    let inst = instantiate(m, vec![]).unwrap();
    let t = inst.table(0).unwrap();
    let f = |i: usize| &inst.funcs()[i] as *const VMFuncRef as u64;
    assert_eq!(
        call(&inst, Builtin::TableInit, &[0, 0, 2, 0, 2]),
        Ok(vec![0, 0, 2, 0, 2])
    );
    assert_eq!(
        (t.get(2), t.get(3)),
        (Some(f(0)), Some(f(1))),
        "expected funcs 0,1 at 2..4"
    );
    assert_eq!(
        call(&inst, Builtin::TableInit, &[0, 0, 3, 0, 2]),
        Err(Trap::TableOutOfBounds),
        "dst past end"
    );
    assert_eq!(
        call(&inst, Builtin::TableInit, &[0, 0, 0, 1, 2]),
        Err(Trap::TableOutOfBounds),
        "src past end"
    );
    assert_eq!(
        call(&inst, Builtin::TableInit, &[0, 1, 0, 0, 1]),
        Err(Trap::TableOutOfBounds),
        "declared segment is dropped"
    );
    call(&inst, Builtin::ElemDrop, &[0]).unwrap();
    assert_eq!(
        call(&inst, Builtin::TableInit, &[0, 0, 0, 0, 1]),
        Err(Trap::TableOutOfBounds),
        "dropped segment"
    );
    assert!(
        call(&inst, Builtin::TableInit, &[0, 0, 4, 0, 0]).is_ok(),
        "len 0 at the end is in bounds"
    );
    assert_eq!(
        call(&inst, Builtin::TableInit, &[0, 0, 5, 0, 0]),
        Err(Trap::TableOutOfBounds),
        "len 0 past the end"
    );
}

#[test]
fn memory_grow_honours_declared_max_and_platform_cap() {
    let mut m = base_module();
    m.memory = memory(1, Some(3));
    let inst = instantiate(m.clone(), vec![]).unwrap();
    let grow = |d| call(&inst, Builtin::MemoryGrow, &[d]).map(|r| r[0]);
    assert_eq!(grow(1), Ok(1));
    assert_eq!(grow(2), Ok(0xffff_ffff), "past max 3: expected -1");
    assert_eq!(grow(1), Ok(2));
    assert_eq!(grow(0), Ok(3));
    m.memory = memory(1, None);
    let inst = instantiate(m, vec![]).unwrap();
    let grow = |d| call(&inst, Builtin::MemoryGrow, &[d]).map(|r| r[0]);
    assert_eq!(
        grow(4),
        Ok(0xffff_ffff),
        "past the mock's 4-page cap: expected -1"
    );
    assert_eq!(grow(3), Ok(1));
    assert_eq!(
        grow(0xffff_ffff),
        Ok(0xffff_ffff),
        "huge delta: expected -1, no overflow"
    );
}

#[test]
fn memory_fill_copy_init_check_bounds_before_writing() {
    let mut m = base_module();
    m.memory = memory(1, None);
    m.data = vec![DataSegment {
        mode: SegmentMode::Passive,
        bytes: b"hello".to_vec(),
    }];
    let inst = instantiate(m, vec![]).unwrap();
    let end = 65536;
    assert_eq!(
        call(&inst, Builtin::MemoryFill, &[end - 2, 0x55, 3]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        read(&inst, end - 2, 2),
        [0, 0],
        "fill must not write partially"
    );
    assert!(
        call(&inst, Builtin::MemoryFill, &[end, 0x55, 0]).is_ok(),
        "len 0 at end is fine"
    );
    assert_eq!(
        call(&inst, Builtin::MemoryFill, &[end + 1, 0x55, 0]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert!(call(&inst, Builtin::MemoryInit, &[0, 10, 0, 5]).is_ok());
    assert_eq!(read(&inst, 10, 5), b"hello");
    assert_eq!(
        call(&inst, Builtin::MemoryInit, &[0, 0, 1, 5]),
        Err(Trap::MemoryOutOfBounds),
        "src past segment"
    );
    assert!(
        call(&inst, Builtin::MemoryCopy, &[12, 10, 5]).is_ok(),
        "overlapping forward copy"
    );
    assert_eq!(read(&inst, 10, 7), b"hehello");
    assert!(
        call(&inst, Builtin::MemoryCopy, &[10, 12, 5]).is_ok(),
        "overlapping backward copy"
    );
    assert_eq!(read(&inst, 10, 7), b"hellolo");
    assert_eq!(
        call(&inst, Builtin::MemoryCopy, &[0, end - 1, 2]),
        Err(Trap::MemoryOutOfBounds),
        "src past end"
    );
    call(&inst, Builtin::DataDrop, &[0]).unwrap();
    assert_eq!(
        call(&inst, Builtin::MemoryInit, &[0, 0, 0, 1]),
        Err(Trap::MemoryOutOfBounds),
        "dropped segment"
    );
    assert!(
        call(&inst, Builtin::MemoryInit, &[0, 0, 0, 0]).is_ok(),
        "len 0 from a dropped segment"
    );
}

#[test]
fn refused_memory_grow_stops_at_a_pending_safepoint_before_returning() {
    // A platform refuses growth while the program is being killed; with a
    // safepoint bit set the builtin ends in the platform's trap instead of
    // handing the program a -1 to act on.
    let p = Rc::new(Mock {
        cap_pages: 4,
        flags: 1,
        safepoints: Cell::new(0),
    });
    let mut m = base_module();
    m.memory = memory(1, None);
    let inst = instantiate_with(&p, m, vec![], &mut TypeRegistry::new()).unwrap();
    assert_eq!(
        call(&inst, Builtin::MemoryGrow, &[1]),
        Ok(vec![1]),
        "a granted grow does not poll"
    );
    assert_eq!(p.safepoints.get(), 0);
    assert_eq!(
        call(&inst, Builtin::MemoryGrow, &[10]),
        Err(Trap::Interrupted),
        "a refused grow with a request pending"
    );
    assert_eq!(p.safepoints.get(), 1);
}

#[test]
fn code_compiled_for_another_safepoint_mask_is_refused() {
    // The mock's mask is 1: code testing bit 2 would never see its requests.
    let mut m = base_module();
    m.safepoint_mask = Some(2);
    let r = instantiate(m, vec![]);
    assert!(
        matches!(r, Err(InstantiateError::BadModule(_))),
        "expected BadModule, got {r:?}"
    );
    let mut m = base_module();
    m.safepoint_mask = Some(1);
    assert!(instantiate(m, vec![]).is_ok(), "the platform's own mask");
}

#[test]
fn memory_copy_across_many_chunks_matches_memmove_in_both_directions() {
    // 64 pages (4 MiB): copies of ~3.5 MiB overlap and span several of the
    // builtin's 1 MiB chunks.
    let p = Rc::new(Mock {
        cap_pages: 64,
        flags: 0,
        safepoints: Cell::new(0),
    });
    let mut m = base_module();
    m.memory = memory(64, None);
    let inst = instantiate_with(&p, m, vec![], &mut TypeRegistry::new()).unwrap();
    let size = 64 * 65536;
    let pattern: Vec<u8> = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
    for (dst, src, len) in [(1000, 0, 3_500_000), (0, 1000, 3_500_000), (5, 3, size - 5)] {
        assert!(inst.memory().unwrap().write(0, &pattern));
        let mut want = pattern.clone();
        want.copy_within(src as usize..(src + len) as usize, dst as usize);
        assert!(call(&inst, Builtin::MemoryCopy, &[dst, src, len]).is_ok());
        let got = read(&inst, 0, size as usize);
        let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(
            first_diff, None,
            "memory.copy dst {dst} src {src} len {len}: memory differs from memmove's result"
        );
    }
    assert_eq!(p.safepoints.get(), 0, "no safepoint bit was set");
}

#[test]
fn memory_fill_over_a_chunk_stops_at_a_pending_safepoint() {
    // The safepoint bit is set: a fill longer than one 1 MiB chunk polls it
    // after the first chunk and ends with the platform's trap; one of a
    // chunk or less never polls.
    let p = Rc::new(Mock {
        cap_pages: 64,
        flags: 1,
        safepoints: Cell::new(0),
    });
    let mut m = base_module();
    m.memory = memory(64, None);
    let inst = instantiate_with(&p, m, vec![], &mut TypeRegistry::new()).unwrap();
    assert!(call(&inst, Builtin::MemoryFill, &[0, 0x11, 1 << 20]).is_ok());
    assert_eq!(p.safepoints.get(), 0, "a single chunk must not poll");
    assert_eq!(
        call(&inst, Builtin::MemoryFill, &[0, 0x22, 3 << 20]),
        Err(Trap::Interrupted)
    );
    assert_eq!(p.safepoints.get(), 1);
    assert_eq!(
        read(&inst, (1 << 20) - 1, 2),
        [0x22, 0],
        "stopped after the first chunk"
    );
    assert_eq!(
        call(&inst, Builtin::MemoryCopy, &[0, 1 << 20, 2 << 20]),
        Err(Trap::Interrupted)
    );
    assert_eq!(p.safepoints.get(), 2);
}

#[test]
fn table_grow_fill_copy_follow_limits_and_bounds() {
    let mut m = base_module();
    m.tables = vec![
        TableDesc {
            elem: RefType::ExternRef,
            limits: Limits {
                min: 2,
                max: Some(5),
            },
            imported: false,
        },
        TableDesc {
            elem: RefType::ExternRef,
            limits: Limits { min: 0, max: None },
            imported: false,
        },
    ];
    let inst = instantiate(m, vec![]).unwrap();
    let t = inst.table(0).unwrap();
    assert_eq!(
        call(&inst, Builtin::TableGrow, &[0, 7, 2]).map(|r| r[0]),
        Ok(2)
    );
    assert_eq!(
        call(&inst, Builtin::TableGrow, &[0, 7, 2]).map(|r| r[0]),
        Ok(0xffff_ffff),
        "past max"
    );
    assert_eq!(
        call(&inst, Builtin::TableGrow, &[1, 0, 1001]).map(|r| r[0]),
        Ok(0xffff_ffff),
        "platform cap"
    );
    // SAFETY: the table is alive and not resized while `vm` is used.
    let vm = unsafe { &*t.vm_ptr() };
    assert_eq!(vm.len, 4, "VMTable.len follows growth");
    assert_eq!(
        // SAFETY: index 3 < len 4, checked just above.
        unsafe { *vm.base.add(3) },
        7,
        "VMTable.base sees grown elements"
    );
    assert_eq!(
        call(&inst, Builtin::TableFill, &[0, 3, 9, 2]),
        Err(Trap::TableOutOfBounds)
    );
    assert_eq!(t.get(3), Some(7), "fill must not write partially");
    call(&inst, Builtin::TableFill, &[0, 0, 1, 1]).unwrap();
    call(&inst, Builtin::TableFill, &[0, 1, 2, 1]).unwrap();
    call(&inst, Builtin::TableCopy, &[0, 0, 1, 0, 3]).unwrap();
    let got: Vec<_> = (0..4).map(|i| t.get(i).unwrap()).collect();
    assert_eq!(got, vec![1, 1, 2, 7], "overlapping table.copy");
    assert_eq!(
        call(&inst, Builtin::TableCopy, &[1, 0, 0, 0, 1]),
        Err(Trap::TableOutOfBounds),
        "dst table empty"
    );
}

#[test]
fn safepoint_builtin_defers_to_the_platform() {
    let inst = instantiate(base_module(), vec![]).unwrap();
    assert_eq!(call(&inst, Builtin::Safepoint, &[]), Err(Trap::Interrupted));
    assert_eq!(inst.platform().safepoints.get(), 1);
}

#[test]
fn structurally_equal_types_get_the_same_canonical_id() {
    let mut reg = TypeRegistry::new();
    let a = FuncType {
        params: vec![ValType::I32],
        results: vec![ValType::I64],
    };
    let b = FuncType {
        params: vec![ValType::I32, ValType::I64],
        results: vec![],
    };
    let c = FuncType {
        params: vec![],
        results: vec![ValType::I32, ValType::I64],
    };
    let ids = [
        reg.intern(&a),
        reg.intern(&b),
        reg.intern(&c),
        reg.intern(&a.clone()),
    ];
    assert_eq!(ids[0], ids[3], "equal types: same id");
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "different types: {ids:?}"
    );
    assert!(ids.iter().all(|&i| i != 0), "0 is never an id");
    assert_eq!(reg.get(ids[1]), Some(&b));
}

#[test]
fn imports_are_checked_against_declared_types() {
    let p = platform();
    let mut reg = TypeRegistry::new();
    let mut exporter = base_module();
    exporter.memory = memory(1, Some(2));
    exporter.globals = vec![GlobalDesc {
        ty: ValType::I32,
        mutable: false,
        init: Some(ConstExpr::I32(5)),
        inline: false,
    }];
    exporter.exports = vec![
        Export {
            name: "mem".into(),
            kind: ExportKind::Memory,
        },
        Export {
            name: "g".into(),
            kind: ExportKind::Global(0),
        },
        Export {
            name: "f".into(),
            kind: ExportKind::Func(1),
        },
    ];
    let ex = instantiate_with(&p, exporter, vec![], &mut reg).unwrap();

    let importer = |mem: Limits, mutable: bool, fty: FuncType| {
        let mut m = base_module();
        m.types = vec![void(), fty];
        m.func_types = vec![1, 0, 0];
        m.num_imported_funcs = 1;
        m.import_adapters = vec![0];
        m.imports = vec![
            Import {
                module: "e".into(),
                name: "f".into(),
                kind: ImportKind::Func(1),
            },
            Import {
                module: "e".into(),
                name: "mem".into(),
                kind: ImportKind::Memory,
            },
            Import {
                module: "e".into(),
                name: "g".into(),
                kind: ImportKind::Global,
            },
        ];
        m.memory = Some(MemoryDesc {
            limits: mem,
            imported: true,
        });
        m.globals = vec![
            GlobalDesc {
                ty: ValType::I32,
                mutable,
                init: None,
                inline: false,
            },
            GlobalDesc {
                ty: ValType::I32,
                mutable: false,
                init: Some(ConstExpr::GlobalGet(0)),
                inline: false,
            },
        ];
        m
    };
    let imports = || {
        vec![
            ex.export("f").unwrap(),
            ex.export("mem").unwrap(),
            ex.export("g").unwrap(),
        ]
    };
    let ok = instantiate_with(
        &p,
        importer(
            Limits {
                min: 1,
                max: Some(2),
            },
            false,
            void(),
        ),
        imports(),
        &mut reg,
    )
    .unwrap();
    assert_eq!(
        ok.global(1).unwrap().get(),
        5,
        "global.get initialiser reads the imported global"
    );
    assert_eq!(
        ok.funcs()[0].vmctx,
        ex.vmctx(),
        "imported wasm function keeps the exporter's vmctx"
    );
    assert!(
        Rc::ptr_eq(ok.memory().unwrap(), ex.memory().unwrap()),
        "memory is shared"
    );

    let reason = |r: Result<Rc<Instance<Mock>>, InstantiateError<Mock>>| match r {
        Err(InstantiateError::Unlinkable(e)) => e.reason,
        Err(e) => panic!("expected unlinkable, got {e:?}"),
        Ok(_) => panic!("expected unlinkable, got an instance"),
    };
    let one = FuncType {
        params: vec![ValType::I32],
        results: vec![],
    };
    assert_eq!(
        reason(instantiate_with(
            &p,
            importer(
                Limits {
                    min: 1,
                    max: Some(2)
                },
                false,
                one
            ),
            imports(),
            &mut reg
        )),
        "function type mismatch"
    );
    assert_eq!(
        reason(instantiate_with(
            &p,
            importer(Limits { min: 2, max: None }, false, void()),
            imports(),
            &mut reg
        )),
        "memory limits mismatch"
    );
    assert_eq!(
        reason(instantiate_with(
            &p,
            importer(
                Limits {
                    min: 1,
                    max: Some(1)
                },
                false,
                void()
            ),
            imports(),
            &mut reg
        )),
        "memory limits mismatch"
    );
    assert_eq!(
        reason(instantiate_with(
            &p,
            importer(Limits { min: 1, max: None }, true, void()),
            imports(),
            &mut reg
        )),
        "global type mismatch"
    );
}

#[test]
fn builtins_never_panic_on_arbitrary_arguments() {
    let mut m = base_module();
    m.memory = memory(1, Some(3));
    m.tables = vec![
        TableDesc {
            elem: RefType::FuncRef,
            limits: Limits {
                min: 4,
                max: Some(64),
            },
            imported: false,
        },
        TableDesc {
            elem: RefType::ExternRef,
            limits: Limits { min: 0, max: None },
            imported: false,
        },
    ];
    m.data = vec![
        DataSegment {
            mode: SegmentMode::Passive,
            bytes: vec![1; 100],
        },
        DataSegment {
            mode: SegmentMode::Passive,
            bytes: vec![],
        },
    ];
    m.elements = vec![ElemSegment {
        mode: SegmentMode::Passive,
        ty: RefType::FuncRef,
        items: vec![ConstExpr::RefFunc(0); 10],
    }];
    let inst = instantiate(m, vec![]).unwrap();
    // Deterministic xorshift; arguments biased towards boundary values.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let interesting = [
        0,
        1,
        2,
        3,
        4,
        9,
        10,
        63,
        64,
        99,
        100,
        101,
        65535,
        65536,
        196608,
        0x7fff_ffff,
        0xffff_ffff,
    ];
    let builtins = [
        Builtin::MemoryGrow,
        Builtin::MemoryFill,
        Builtin::MemoryCopy,
        Builtin::MemoryInit,
        Builtin::DataDrop,
        Builtin::TableGrow,
        Builtin::TableFill,
        Builtin::TableCopy,
        Builtin::TableInit,
        Builtin::ElemDrop,
    ];
    let mut traps = 0;
    for _ in 0..100_000 {
        let b = builtins[(next() % builtins.len() as u64) as usize];
        let mut args = [0u64; 5];
        for a in &mut args {
            let r = next();
            *a = match r % 4 {
                0 => r >> 2,
                _ => interesting[((r >> 2) % interesting.len() as u64) as usize],
            };
        }
        // Index arguments mostly valid, sometimes not.
        if matches!(
            b,
            Builtin::TableGrow | Builtin::TableFill | Builtin::TableInit | Builtin::TableCopy
        ) && next() % 8 != 0
        {
            args[0] %= 2;
            if b == Builtin::TableCopy {
                args[1] %= 2;
            }
        }
        if builtin(&inst, b, &mut args).is_err() {
            traps += 1;
        }
        let mem = inst.memory().unwrap();
        assert!(
            mem.pages() <= 3,
            "memory grew past its max: {}",
            mem.pages()
        );
        assert!(
            inst.table(0).unwrap().len() <= 64,
            "table 0 grew past its max"
        );
    }
    println!("{traps} of 100000 calls trapped");
    assert!(
        traps > 0 && traps < 100_000,
        "expected a mix of traps and successes, got {traps} traps"
    );
}
