// SPDX-License-Identifier: GPL-2.0

//! A minimal user-space runtime for testing generated code: maps the code,
//! builds a VMContext, implements the host call (builtins and a few WASI
//! functions) and calls exports through the array-call trampolines. Calls
//! that may trap run in a forked child whose signal handler maps the faulting
//! instruction to its trap site. The real runtime is crate kwasm-host.

#![allow(dead_code)]

use std::cell::RefCell;
use std::ptr;

use kwasm_abi::{
    vmctx, Builtin, CompiledModule, ConstExpr, ExportKind, SegmentMode, Trap, VMFuncRef, VMMemory,
    VMTable, MEMORY_GUARD, MEMORY_RESERVATION, WASM_PAGE_SIZE,
};
use kwasm_compiler::{compile, Config, IsaFeatures};

pub fn wat_module(src: &str) -> CompiledModule {
    let wasm = wat::parse_str(src).expect("wat");
    compile(&wasm, &config()).unwrap_or_else(|e| panic!("compile: {e}"))
}

/// wasm-smith settings for WebAssembly 2.0 without SIMD, what kwasm
/// compiles; callers add their own sizes.
pub fn wasm2_smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        compact_imports_enabled: false,
        custom_page_sizes_enabled: false,
        ..Default::default()
    }
}

pub fn config() -> Config {
    Config {
        features: IsaFeatures::baseline(),
        verify: true,
        ..Config::default()
    }
}

// Boxed cells: their addresses are handed to compiled code.
#[allow(clippy::vec_box)]
pub struct Instance {
    pub module: CompiledModule,
    code: *mut u8,
    code_len: usize,
    // The header and the inline global cells (`vmctx::size`).
    header: Box<[u64]>,
    memory: Box<VMMemory>,
    mem_max_pages: u64,
    funcs: Vec<VMFuncRef>,
    global_cells: Vec<Box<u64>>,
    global_ptrs: Vec<*mut u64>,
    tables: Vec<Box<VMTable>>,
    table_elems: Vec<Vec<u64>>,
    table_ptrs: Vec<*mut VMTable>,
    type_ids: Vec<u32>,
    safepoint_word: Box<u64>,
    pub safepoints: u64,
    pub stdout: RefCell<Vec<u8>>,
    pub args: Vec<String>,
    /// Passive data segments (None once dropped).
    data_segs: Vec<Option<Vec<u8>>>,
    /// Passive element segments, evaluated (None once dropped).
    elem_segs: Vec<Option<Vec<u64>>>,
    /// Growth caps, so that random programs cannot exhaust the machine.
    pub mem_cap_pages: u64,
    pub table_cap: u64,
}

fn vm(inst: &Instance) -> *mut u8 {
    inst.header.as_ptr() as *mut u8
}

impl Instance {
    pub fn new(module: CompiledModule) -> Box<Instance> {
        // The code, then a 16-byte veneer to `hostcall` that its rel32
        // host calls reach: `movabs $hostcall, %r11; jmp *%r11`.
        let veneer_at = module.code.len().next_multiple_of(16);
        let code_len = veneer_at + 16;
        // SAFETY: anonymous private mapping, checked for failure.
        let code = unsafe {
            libc::mmap(
                ptr::null_mut(),
                code_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(code, libc::MAP_FAILED);
        let code = code as *mut u8;
        // SAFETY: `code` is a fresh writable mapping of `code_len` bytes.
        unsafe {
            let mem = std::slice::from_raw_parts_mut(code, code_len);
            mem[..module.code.len()].copy_from_slice(&module.code);
            let target = (hostcall as *const () as usize as u64).to_le_bytes();
            mem[veneer_at..veneer_at + 2].copy_from_slice(&[0x49, 0xbb]);
            mem[veneer_at + 2..veneer_at + 10].copy_from_slice(&target);
            mem[veneer_at + 10..veneer_at + 13].copy_from_slice(&[0x41, 0xff, 0xe3]);
            let veneer = code as usize + veneer_at;
            module
                .relocate(&mut mem[..module.code.len()], code as usize, |s| {
                    (s == kwasm_abi::Symbol::HostCall).then_some(veneer)
                })
                .expect("relocate");
            assert_eq!(
                libc::mprotect(code as _, code_len, libc::PROT_READ | libc::PROT_EXEC),
                0
            );
        }
        let mut memory = Box::new(VMMemory {
            base: ptr::null_mut(),
            size: 0,
        });
        let mut mem_max_pages = 0;
        if let Some(m) = module.memory {
            let total = (MEMORY_RESERVATION + MEMORY_GUARD) as usize;
            // Shared, so that what a trapping call (run in a forked child)
            // wrote before its trap is visible to the test.
            // SAFETY: reserve address space only; pages are opened by mprotect.
            let base = unsafe {
                libc::mmap(
                    ptr::null_mut(),
                    total,
                    libc::PROT_NONE,
                    libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            assert_ne!(base, libc::MAP_FAILED);
            memory.base = base as *mut u8;
            mem_max_pages = m.limits.max.unwrap_or(65536).min(65536);
            let bytes = m.limits.min * WASM_PAGE_SIZE;
            if bytes > 0 {
                // SAFETY: inside the reservation.
                unsafe {
                    assert_eq!(
                        libc::mprotect(base, bytes as usize, libc::PROT_READ | libc::PROT_WRITE),
                        0
                    );
                }
            }
            memory.size = bytes;
        }
        // Canonical type ids: index of the first structurally equal type.
        let type_ids: Vec<u32> = module
            .types
            .iter()
            .map(|t| module.types.iter().position(|u| u == t).unwrap() as u32)
            .collect();
        let mut inst = Box::new(Instance {
            code,
            code_len,
            header: vec![0; vmctx::size(module.globals.len()) / 8].into_boxed_slice(),
            memory,
            mem_max_pages,
            funcs: Vec::new(),
            global_cells: Vec::new(),
            global_ptrs: Vec::new(),
            tables: Vec::new(),
            table_elems: Vec::new(),
            table_ptrs: Vec::new(),
            type_ids,
            safepoint_word: Box::new(0),
            safepoints: 0,
            stdout: RefCell::new(Vec::new()),
            args: vec!["prog".into()],
            data_segs: Vec::new(),
            elem_segs: Vec::new(),
            mem_cap_pages: 65536,
            table_cap: 10_000_000,
            module,
        });
        let vmctx_ptr = vm(&inst);
        let m = &inst.module;
        let mut funcs = Vec::new();
        for (i, &ty) in m.func_types.iter().enumerate() {
            let code_off = if (i as u32) < m.num_imported_funcs {
                m.import_adapters[i]
            } else {
                m.funcs[i - m.num_imported_funcs as usize].0
            };
            funcs.push(VMFuncRef {
                // SAFETY: offset inside the code mapping.
                code: unsafe { code.add(code_off as usize) },
                vmctx: vmctx_ptr,
                type_id: inst.type_ids[ty as usize] as u64,
            });
        }
        inst.funcs = funcs;
        let funcs_ptr = inst.funcs.as_ptr();
        let eval = |inst: &Instance, e: &ConstExpr| -> u64 {
            match *e {
                ConstExpr::I32(v) => v as u32 as u64,
                ConstExpr::I64(v) => v as u64,
                ConstExpr::F32(b) => b as u64,
                ConstExpr::F64(b) => b,
                ConstExpr::RefNull(_) => 0,
                // SAFETY: index validated by the compiler.
                ConstExpr::RefFunc(f) => unsafe { funcs_ptr.add(f as usize) as u64 },
                // SAFETY: a validated index; the cells live as long as `inst`.
                ConstExpr::GlobalGet(g) => unsafe { *inst.global_ptrs[g as usize] },
            }
        };
        let header_ptr = inst.header.as_mut_ptr();
        for (i, g) in inst.module.globals.clone().iter().enumerate() {
            let v = g.init.as_ref().map(|e| eval(&inst, e)).unwrap_or(0);
            let ptr = if g.inline {
                // SAFETY: `vmctx::size` made room for a cell per global.
                unsafe { header_ptr.add(vmctx::SIZE / 8 + i) }
            } else {
                inst.global_cells.push(Box::new(v));
                &mut **inst.global_cells.last_mut().unwrap() as *mut u64
            };
            // SAFETY: a cell of `inst`, as above.
            unsafe { *ptr = v };
            inst.global_ptrs.push(ptr);
        }
        for t in inst.module.tables.clone() {
            let mut elems = vec![0u64; t.limits.min as usize];
            let t = Box::new(VMTable {
                base: elems.as_mut_ptr(),
                len: elems.len() as u64,
            });
            inst.table_elems.push(elems);
            inst.tables.push(t);
        }
        inst.table_ptrs = inst
            .tables
            .iter_mut()
            .map(|t| &mut **t as *mut VMTable)
            .collect();
        // Wasm 2.0 instantiation: element segments, then data segments; active
        // and declared segments are dropped afterwards. Out-of-bounds
        // segments panic (callers treat that as "not supported here").
        for seg in inst.module.elements.clone() {
            let items: Vec<u64> = seg.items.iter().map(|e| eval(&inst, e)).collect();
            match seg.mode {
                SegmentMode::Active { table, offset } => {
                    let off = eval(&inst, &offset) as u32 as usize;
                    let t = &mut inst.table_elems[table as usize];
                    assert!(
                        off + items.len() <= t.len(),
                        "element segment out of bounds"
                    );
                    t[off..off + items.len()].copy_from_slice(&items);
                    inst.elem_segs.push(None);
                }
                SegmentMode::Passive => inst.elem_segs.push(Some(items)),
                SegmentMode::Declared => inst.elem_segs.push(None),
            }
        }
        for seg in inst.module.data.clone() {
            if let SegmentMode::Active { offset, .. } = seg.mode {
                let off = eval(&inst, &offset) as u32 as usize;
                assert!(
                    off + seg.bytes.len() <= inst.memory.size as usize,
                    "data segment out of bounds"
                );
                // SAFETY: bounds checked against the accessible size.
                unsafe {
                    ptr::copy_nonoverlapping(
                        seg.bytes.as_ptr(),
                        inst.memory.base.add(off),
                        seg.bytes.len(),
                    )
                };
                inst.data_segs.push(None);
            } else {
                inst.data_segs.push(Some(seg.bytes));
            }
        }
        let inst_ptr = &*inst as *const Instance as u64;
        let h = &mut inst.header;
        h[vmctx::MEMORY as usize / 8] = &*inst.memory as *const VMMemory as u64;
        h[vmctx::MEMORY_BASE as usize / 8] = inst.memory.base as u64;
        h[vmctx::STACK_LIMIT as usize / 8] = 0;
        h[vmctx::SAFEPOINT_FLAGS as usize / 8] = &*inst.safepoint_word as *const u64 as u64;
        h[vmctx::SAFEPOINT_MASK as usize / 8] = 1;
        h[vmctx::HOSTCALL as usize / 8] = hostcall as *const () as usize as u64;
        h[vmctx::FUNCS as usize / 8] = inst.funcs.as_ptr() as u64;
        h[vmctx::GLOBALS as usize / 8] = inst.global_ptrs.as_ptr() as u64;
        h[vmctx::TABLES as usize / 8] = inst.table_ptrs.as_ptr() as u64;
        h[vmctx::TYPE_IDS as usize / 8] = inst.type_ids.as_ptr() as u64;
        h[vmctx::RUNTIME as usize / 8] = inst_ptr;
        inst
    }

    pub fn set_safepoint_word(&mut self, v: u64) {
        *self.safepoint_word = v;
    }

    pub fn set_stack_limit(&mut self, v: u64) {
        self.header[vmctx::STACK_LIMIT as usize / 8] = v;
    }

    pub fn memory(&self) -> &[u8] {
        if self.memory.base.is_null() {
            return &[];
        }
        // SAFETY: the accessible part of the reservation.
        unsafe { std::slice::from_raw_parts(self.memory.base, self.memory.size as usize) }
    }

    pub fn global(&self, i: usize) -> u64 {
        // SAFETY: a cell of this instance.
        unsafe { *self.global_ptrs[i] }
    }

    /// Calls export `name` with raw 64-bit arguments; returns raw results.
    pub fn call(&mut self, name: &str, args: &[u64]) -> Vec<u64> {
        let f = self.func_export(name);
        self.call_index(f, args)
    }

    fn func_export(&self, name: &str) -> u32 {
        let Some(ExportKind::Func(f)) = self.module.export(name) else {
            panic!("no function export {name}")
        };
        f
    }

    /// The array-call trampoline for function `f`'s type.
    fn trampoline(&self, f: u32) -> *const u8 {
        let off = self.module.trampolines[self.module.func_types[f as usize] as usize];
        // SAFETY: an offset inside the code, produced by the compiler.
        unsafe { self.code.add(off as usize) }
    }

    pub fn call_index(&mut self, f: u32, args: &[u64]) -> Vec<u64> {
        let ty = &self.module.types[self.module.func_types[f as usize] as usize];
        assert_eq!(ty.params.len(), args.len());
        let nres = ty.results.len();
        let mut buf = vec![0u64; args.len().max(nres).max(1)];
        buf[..args.len()].copy_from_slice(args);
        let tramp = self.trampoline(f);
        // SAFETY: the compiler's trampoline has the TrampolineFn ABI.
        unsafe {
            let tramp: kwasm_abi::TrampolineFn = std::mem::transmute(tramp);
            let fr = self.funcs[f as usize];
            tramp(vm(self), fr.code, buf.as_mut_ptr());
        }
        buf.truncate(nres);
        buf
    }

    /// What calling export `name` takes: its trampoline, the vmctx and
    /// the function's code (for calls made by hand, as in inline asm).
    pub fn entry(&mut self, name: &str) -> (*const u8, *mut u8, *const u8) {
        let f = self.func_export(name);
        (self.trampoline(f), vm(self), self.funcs[f as usize].code)
    }

    /// Runs `call` in a forked child; returns Ok(results) or Err(trap).
    pub fn call_trapping(&mut self, name: &str, args: &[u64]) -> Result<Vec<u64>, Trap> {
        let mut fds = [0; 2];
        // SAFETY: plain pipe/fork; the child only runs the call and exits.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                libc::close(fds[0]);
                CHILD_MODULE = &self.module as *const CompiledModule;
                CHILD_FD = fds[1];
                CHILD_CODE = (self.code as usize, self.code_len);
                install_handlers();
                let r = self.call(name, args);
                let mut msg = vec![0u8];
                for v in r {
                    msg.extend_from_slice(&v.to_le_bytes());
                }
                libc::write(fds[1], msg.as_ptr() as _, msg.len());
                libc::_exit(0);
            }
            libc::close(fds[1]);
            let mut out = Vec::new();
            let mut chunk = [0u8; 256];
            loop {
                let n = libc::read(fds[0], chunk.as_mut_ptr() as _, chunk.len());
                if n <= 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..n as usize]);
            }
            libc::close(fds[0]);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            match out.first() {
                Some(0) => Ok(out[1..]
                    .chunks(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                    .collect()),
                Some(&t) => Err(Trap::from_u8(t).unwrap_or(Trap::HostError)),
                None => panic!("child died without report, status {status:#x}"),
            }
        }
    }

    fn grow(&mut self, delta: u32) -> i32 {
        let old = self.memory.size / WASM_PAGE_SIZE;
        let new = old + delta as u64;
        if new > self.mem_max_pages.min(self.mem_cap_pages) || self.module.memory.is_none() {
            return -1;
        }
        if delta > 0 {
            // SAFETY: inside the reservation.
            unsafe {
                assert_eq!(
                    libc::mprotect(
                        self.memory.base.add(self.memory.size as usize) as _,
                        (delta as u64 * WASM_PAGE_SIZE) as usize,
                        libc::PROT_READ | libc::PROT_WRITE
                    ),
                    0
                );
            }
        }
        self.memory.size = new * WASM_PAGE_SIZE;
        old as i32
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: unmapping what `new` mapped.
        unsafe {
            libc::munmap(self.code as _, self.code_len);
            if !self.memory.base.is_null() {
                libc::munmap(
                    self.memory.base as _,
                    (MEMORY_RESERVATION + MEMORY_GUARD) as usize,
                );
            }
        }
    }
}

static mut CHILD_MODULE: *const CompiledModule = ptr::null();
static mut CHILD_FD: i32 = -1;
static mut CHILD_CODE: (usize, usize) = (0, 0);

/// Child report: a fault in generated code at no trap site (a compiler bug).
pub const FAULT_NOT_TRAP_SITE: u8 = 0xff;
/// Child report: a fault outside generated code.
pub const FAULT_OUTSIDE_CODE: u8 = 0xfe;
/// Child report: the test runtime panicked (unsupported module).
pub const RUNTIME_PANIC: u8 = 0xfd;
/// Child report: end of a successful run (followed by globals and memory hash).
pub const RUN_END: u8 = 0xaa;

/// Child-side trap: report and exit.
fn child_trap(t: Trap) -> ! {
    child_report(t as u8)
}

fn child_report(code: u8) -> ! {
    // SAFETY: only called in the forked child.
    unsafe {
        let b = [code];
        libc::write(CHILD_FD, b.as_ptr() as _, 1);
        libc::_exit(0);
    }
}

extern "C" fn on_signal(_sig: i32, _info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext to SA_SIGINFO handlers.
    unsafe {
        let uc = uc as *mut libc::ucontext_t;
        let rip = (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as usize;
        let (start, len) = CHILD_CODE;
        if rip >= start && rip < start + len {
            match (*CHILD_MODULE).trap_at((rip - start) as u32) {
                Some(t) => child_trap(t),
                None => child_report(FAULT_NOT_TRAP_SITE),
            }
        }
        child_report(FAULT_OUTSIDE_CODE);
    }
}

/// # Safety
/// Only for the forked child: the handlers end the process.
unsafe fn install_handlers() {
    // SAFETY: the caller is the forked child; handlers exit the process.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        for s in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
        ] {
            libc::sigaction(s, &sa, ptr::null_mut());
        }
    }
}

/// The single host-call entry.
extern "C" fn hostcall(vmctx_ptr: *mut u8, index: u32, args: *mut u64) {
    // SAFETY: vmctx is our header; RUNTIME points at the Instance.
    let inst = unsafe { &mut *(*(vmctx_ptr.add(vmctx::RUNTIME as usize) as *const *mut Instance)) };
    // SAFETY: the compiler passes an array big enough for the call.
    let a = |i: usize| unsafe { *args.add(i) };
    // SAFETY: as above.
    let set = |i: usize, v: u64| unsafe { *args.add(i) = v };
    if let Some(b) = Builtin::from_index(index) {
        match b {
            Builtin::MemoryGrow => set(0, inst.grow(a(0) as u32) as u32 as u64),
            Builtin::Safepoint => {
                inst.safepoints += 1;
                *inst.safepoint_word = 0;
            }
            Builtin::MemoryFill => {
                let (d, v, n) = (a(0) as u32 as usize, a(1) as u8, a(2) as u32 as usize);
                if d as u64 + n as u64 > inst.memory.size {
                    child_or_panic(Trap::MemoryOutOfBounds);
                }
                // SAFETY: bounds checked.
                unsafe { ptr::write_bytes(inst.memory.base.add(d), v, n) };
            }
            Builtin::MemoryCopy => {
                let (d, s, n) = (a(0) as u32 as u64, a(1) as u32 as u64, a(2) as u32 as u64);
                let size = inst.memory.size;
                if d + n > size || s + n > size {
                    child_or_panic(Trap::MemoryOutOfBounds);
                }
                // SAFETY: bounds checked.
                unsafe {
                    ptr::copy(
                        inst.memory.base.add(s as usize),
                        inst.memory.base.add(d as usize),
                        n as usize,
                    )
                };
            }
            Builtin::TableGrow => {
                let (t, init, delta) = (a(0) as usize, a(1), a(2) as u32 as usize);
                let elems = &mut inst.table_elems[t];
                let old = elems.len();
                let max = inst.module.tables[t]
                    .limits
                    .max
                    .unwrap_or(u32::MAX as u64)
                    .min(inst.table_cap) as usize;
                if old + delta > max {
                    set(0, u32::MAX as u64);
                } else {
                    elems.resize(old + delta, init);
                    inst.tables[t].base = elems.as_mut_ptr();
                    inst.tables[t].len = elems.len() as u64;
                    set(0, old as u64);
                }
            }
            Builtin::MemoryInit => {
                let (seg, d, s, n) = (
                    a(0) as usize,
                    a(1) as u32 as u64,
                    a(2) as u32 as u64,
                    a(3) as u32 as u64,
                );
                let bytes = inst.data_segs[seg].clone().unwrap_or_default();
                if s + n > bytes.len() as u64 || d + n > inst.memory.size {
                    child_or_panic(Trap::MemoryOutOfBounds);
                }
                // SAFETY: bounds checked.
                unsafe {
                    ptr::copy_nonoverlapping(
                        bytes.as_ptr().add(s as usize),
                        inst.memory.base.add(d as usize),
                        n as usize,
                    )
                };
            }
            Builtin::DataDrop => inst.data_segs[a(0) as usize] = None,
            Builtin::ElemDrop => inst.elem_segs[a(0) as usize] = None,
            Builtin::TableFill => {
                let (t, d, v, n) = (
                    a(0) as usize,
                    a(1) as u32 as usize,
                    a(2),
                    a(3) as u32 as usize,
                );
                let elems = &mut inst.table_elems[t];
                if d as u64 + n as u64 > elems.len() as u64 {
                    child_or_panic(Trap::TableOutOfBounds);
                }
                elems[d..d + n].fill(v);
            }
            Builtin::TableCopy => {
                let (dt, st) = (a(0) as usize, a(1) as usize);
                let (d, s, n) = (
                    a(2) as u32 as usize,
                    a(3) as u32 as usize,
                    a(4) as u32 as usize,
                );
                let src: Vec<u64> = inst.table_elems[st].clone();
                let dst = &mut inst.table_elems[dt];
                if s as u64 + n as u64 > src.len() as u64 || d as u64 + n as u64 > dst.len() as u64
                {
                    child_or_panic(Trap::TableOutOfBounds);
                }
                dst[d..d + n].copy_from_slice(&src[s..s + n]);
            }
            Builtin::TableInit => {
                let (t, e) = (a(0) as usize, a(1) as usize);
                let (d, s, n) = (
                    a(2) as u32 as usize,
                    a(3) as u32 as usize,
                    a(4) as u32 as usize,
                );
                let items = inst.elem_segs[e].clone().unwrap_or_default();
                let dst = &mut inst.table_elems[t];
                if s as u64 + n as u64 > items.len() as u64
                    || d as u64 + n as u64 > dst.len() as u64
                {
                    child_or_panic(Trap::TableOutOfBounds);
                }
                dst[d..d + n].copy_from_slice(&items[s..s + n]);
            }
        }
        return;
    }
    let imp = inst
        .module
        .imports
        .iter()
        .filter(|i| matches!(i.kind, kwasm_abi::ImportKind::Func(_)))
        .nth(index as usize)
        .expect("import index")
        .clone();
    let mem = inst.memory.base;
    let rd32 = |p: u64| -> u32 {
        // SAFETY: test programs are trusted to pass valid pointers.
        unsafe { (mem.add(p as u32 as usize) as *const u32).read_unaligned() }
    };
    let wr32 = |p: u64, v: u32| {
        // SAFETY: as above.
        unsafe { (mem.add(p as u32 as usize) as *mut u32).write_unaligned(v) }
    };
    match imp.name.as_str() {
        "fd_write" => {
            let (_fd, iovs, n, nwritten) = (a(0), a(1), a(2), a(3));
            let mut total = 0;
            for i in 0..n {
                let p = rd32(iovs + 8 * i);
                let l = rd32(iovs + 8 * i + 4);
                // SAFETY: as above.
                let s = unsafe { std::slice::from_raw_parts(mem.add(p as usize), l as usize) };
                inst.stdout.borrow_mut().extend_from_slice(s);
                total += l;
            }
            wr32(nwritten, total);
            set(0, 0);
        }
        "args_sizes_get" => {
            wr32(a(0), inst.args.len() as u32);
            wr32(a(1), inst.args.iter().map(|s| s.len() as u32 + 1).sum());
            set(0, 0);
        }
        "args_get" => {
            let (mut argv, mut buf) = (a(0), a(1));
            for s in inst.args.clone() {
                wr32(argv, buf as u32);
                // SAFETY: as above.
                unsafe {
                    ptr::copy_nonoverlapping(s.as_ptr(), mem.add(buf as usize), s.len());
                    *mem.add(buf as usize + s.len()) = 0;
                }
                argv += 4;
                buf += s.len() as u64 + 1;
            }
            set(0, 0);
        }
        "environ_sizes_get" => {
            wr32(a(0), 0);
            wr32(a(1), 0);
            set(0, 0);
        }
        "environ_get" => set(0, 0),
        "proc_exit" => child_or_panic(Trap::HostError),
        // Test-only imports.
        "add" => set(0, (a(0) as i32).wrapping_add(a(1) as i32) as u32 as u64),
        // What a signal or need-resched does to the safepoint word.
        "request_safepoint" => *inst.safepoint_word = 1,
        other => {
            eprintln!("unimplemented import {other}");
            set(0, 52); // ENOSYS
        }
    }
}

fn child_or_panic(t: Trap) {
    // SAFETY: reading a plain static.
    if unsafe { CHILD_FD } >= 0 {
        child_trap(t);
    }
    panic!("trap {t:?} outside a forked call");
}

/// Stack the child may use below the caller's frame: callers of
/// [`run_plan_in_child`] must run on a thread with more stack than this.
pub const CHILD_STACK_BUDGET: u64 = 16 << 20;

/// One call of a plan run by [`run_plan_in_child`].
pub struct PlannedCall {
    pub func: u32,
    pub args: Vec<u64>,
}

/// What the child reported for a plan.
#[derive(Debug, PartialEq, Eq)]
pub struct PlanReport {
    /// Raw results of the calls that returned.
    pub results: Vec<Vec<u64>>,
    /// How the run ended: RUN_END, a trap code, or another report code;
    /// None if the child died silently (timeout, abort).
    pub end: Option<u8>,
    /// On RUN_END: the values of the given globals and the memory's FNV hash.
    pub globals: Vec<u64>,
    pub memory_hash: u64,
    pub memory_size: u64,
}

pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Instantiates `module` in a forked child (running its start function),
/// performs `plan`, and reports. Growth is capped at `mem_cap_pages` and
/// `table_cap`; the child is killed after `timeout_s` seconds.
pub fn run_plan_in_child(
    module: &CompiledModule,
    plan: &[PlannedCall],
    globals: &[u32],
    mem_cap_pages: u64,
    table_cap: u64,
    timeout_s: u32,
) -> PlanReport {
    let mut fds = [0; 2];
    // SAFETY: plain pipe/fork; the child only runs the plan and exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            libc::close(fds[0]);
            CHILD_FD = fds[1];
            libc::alarm(timeout_s);
            std::panic::set_hook(Box::new(|_| child_report(RUNTIME_PANIC)));
            let mut inst = Instance::new(module.clone());
            inst.mem_cap_pages = mem_cap_pages;
            inst.table_cap = table_cap;
            CHILD_MODULE = &inst.module as *const CompiledModule;
            CHILD_CODE = (inst.code as usize, inst.code_len);
            let here = 0u8;
            let sp = &here as *const u8 as u64;
            inst.set_stack_limit(sp - CHILD_STACK_BUDGET);
            install_handlers();
            let write = |bytes: &[u8]| {
                libc::write(CHILD_FD, bytes.as_ptr() as _, bytes.len());
            };
            if let Some(start) = inst.module.start {
                inst.call_index(start, &[]);
            }
            for c in plan {
                let r = inst.call_index(c.func, &c.args);
                let mut msg = vec![0u8, r.len() as u8];
                for v in r {
                    msg.extend_from_slice(&v.to_le_bytes());
                }
                write(&msg);
            }
            let mut msg = vec![RUN_END];
            for g in globals {
                msg.extend_from_slice(&inst.global(*g as usize).to_le_bytes());
            }
            msg.extend_from_slice(&fnv(inst.memory()).to_le_bytes());
            msg.extend_from_slice(&(inst.memory().len() as u64).to_le_bytes());
            write(&msg);
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = libc::read(fds[0], chunk.as_mut_ptr() as _, chunk.len());
            if n <= 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n as usize]);
        }
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        let mut rep = PlanReport {
            results: Vec::new(),
            end: None,
            globals: Vec::new(),
            memory_hash: 0,
            memory_size: 0,
        };
        let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        let mut i = 0;
        while i < out.len() {
            match out[i] {
                0 => {
                    let n = out[i + 1] as usize;
                    rep.results
                        .push((0..n).map(|k| u64_at(&out, i + 2 + 8 * k)).collect());
                    i += 2 + 8 * n;
                }
                RUN_END => {
                    rep.end = Some(RUN_END);
                    let mut j = i + 1;
                    for _ in globals {
                        rep.globals.push(u64_at(&out, j));
                        j += 8;
                    }
                    rep.memory_hash = u64_at(&out, j);
                    rep.memory_size = u64_at(&out, j + 8);
                    break;
                }
                code => {
                    rep.end = Some(code);
                    break;
                }
            }
        }
        rep
    }
}
