// SPDX-License-Identifier: GPL-2.0

//! Instances: the `VMContext` and everything it points to, built from a
//! `CompiledModule`, its executable code and resolved imports.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell, UnsafeCell};
use core::sync::atomic::{AtomicU64, Ordering};

use kwasm_abi::{
    vmctx, CompiledModule, ExportKind, FuncType, ImportKind, SegmentMode, Trap, VMFuncRef,
    VMMemory, VMTable,
};

use crate::constexpr::{eval, eval_offset, ConstEnv};
use crate::global::Global;
use crate::imports::{check_global, check_memory, check_table, Extern, Func, LinkError};
use crate::memory::Memory;
use crate::platform::Platform;
use crate::table::Table;
use crate::types::TypeRegistry;

/// One step of applying segments at instantiation.
enum SegmentInit {
    /// Write element segment `seg` to `table` at `offset`, then drop it.
    Elem {
        seg: usize,
        table: usize,
        offset: u64,
    },
    /// Drop a declared element segment.
    DropElem { seg: usize },
    /// Write data segment `seg` to memory at `offset`, then drop it.
    Data { seg: usize, offset: u64 },
}

/// Number of 8-byte words in the `VMContext` header (inline global cells follow).
const HEADER_WORDS: usize = vmctx::SIZE / 8;

/// Why instantiation failed.
pub enum InstantiateError<P: Platform> {
    /// An import is missing or does not match its declared type.
    Unlinkable(LinkError),
    /// The platform refused a resource (memory reservation, table storage).
    Resource(&'static str),
    /// The `CompiledModule` is inconsistent (a compiler bug).
    BadModule(&'static str),
    /// Applying an element or data segment trapped. Segments before it have
    /// been applied, possibly to imported tables and memories, and those may
    /// now refer to this instance's functions: keep the instance alive as
    /// long as they can be reached.
    Trap(Trap, Rc<Instance<P>>),
}

impl<P: Platform> core::fmt::Debug for InstantiateError<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unlinkable(e) => write!(f, "unlinkable: {e:?}"),
            Self::Resource(s) => write!(f, "resource refused: {s}"),
            Self::BadModule(s) => write!(f, "bad compiled module: {s}"),
            Self::Trap(t, _) => write!(f, "instantiation trap: {}", t.name()),
        }
    }
}

/// A module instance.
///
/// Instances are reference counted and never move: compiled code holds
/// pointers to the header and the arrays hanging off it. Function references
/// written into shared tables do not keep their instance alive, so a runtime
/// keeps every instance of a linked group (a "store") alive as long as any of
/// them runs.
pub struct Instance<P: Platform> {
    module: Arc<CompiledModule>,
    platform: Rc<P>,
    code_base: *const u8,
    // The `VMContext`: the header, then one cell per global index
    // (`vmctx::size`). Compiled code reads the header and reads and writes
    // the inline globals' cells; the runtime updates STACK_LIMIT and RUNTIME
    // after creation, hence the UnsafeCells.
    header: Box<[UnsafeCell<u64>]>,
    funcs: Box<[VMFuncRef]>,
    type_ids: Box<[u32]>,
    globals: Vec<Rc<Global>>,
    // Referenced from the header; kept alive, never read by the runtime.
    _global_ptrs: Box<[*mut u64]>,
    tables: Vec<Rc<Table>>,
    _table_ptrs: Box<[*mut VMTable]>,
    memory: Option<Rc<Memory<P::Region>>>,
    /// Per imported function: the host function if it is one.
    host_funcs: Vec<Option<(P::HostFunc, FuncType)>>,
    /// Instances whose functions we import: their code must outlive ours.
    _deps: Vec<Rc<Instance<P>>>,
    data_dropped: Vec<Cell<bool>>,
    /// Evaluated element segments; emptied by `elem.drop`.
    elem_items: RefCell<Vec<Vec<u64>>>,
}

impl<P: Platform> core::fmt::Debug for Instance<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Instance")
            .field("vmctx", &self.vmctx())
            .field("code_base", &self.code_base)
            .finish()
    }
}

fn usize_of(v: u32) -> usize {
    // kwasm targets 64-bit machines only; u32 always fits.
    v as usize
}

impl<P: Platform> Instance<P> {
    /// Creates an instance and applies its element and data segments. The
    /// caller then runs the start function ([`CompiledModule::start`]).
    ///
    /// `imports` correspond one to one to `module.imports`. `registry` gives
    /// canonical signature ids and must be shared by all instances that can
    /// call each other.
    ///
    /// # Safety
    ///
    /// `code_base` must point to an executable copy of `module.code`, aligned
    /// to [`kwasm_abi::CODE_ALIGN`] (checked), that stays mapped for as long
    /// as the instance (or any function reference into it) may be used.
    pub unsafe fn new(
        platform: &Rc<P>,
        module: Arc<CompiledModule>,
        code_base: *const u8,
        imports: Vec<Extern<P>>,
        registry: &mut TypeRegistry,
    ) -> Result<Rc<Self>, InstantiateError<P>> {
        use InstantiateError::*;
        let m = &*module;
        if imports.len() != m.imports.len() {
            return Err(BadModule("import count"));
        }
        // Constant pools inside functions are aligned relative to the code
        // start, so the copy must be placed at the ABI's alignment.
        if !(code_base as usize).is_multiple_of(kwasm_abi::CODE_ALIGN) {
            return Err(BadModule("code base is not CODE_ALIGN-aligned"));
        }
        // Everything sized by the module is allocated fallibly: a kernel at
        // its memory cgroup's limit refuses the instance (ENOMEM) instead of
        // panicking.
        let mut type_ids = vec_for(m.types.len())?;
        // Room for every type the module declares and every host function
        // type it imports, so that interning them allocates no more.
        registry
            .reserve(m.types.len() + m.imports.len())
            .map_err(|_| InstantiateError::Resource("memory"))?;
        type_ids.extend(m.types.iter().map(|t| registry.intern(t)));
        let type_ids: Box<[u32]> = type_ids.into_boxed_slice();
        let type_id_of_func = |f: usize| -> Option<u32> {
            let ty = m.func_types.get(f)?;
            type_ids.get(usize_of(*ty)).copied()
        };

        let words = vmctx::size(m.globals.len()) / 8;
        let mut header = vec_for(words)?;
        header.extend((0..words).map(|_| UnsafeCell::new(0u64)));
        let header: Box<[UnsafeCell<u64>]> = header.into_boxed_slice();
        let self_vmctx = header.as_ptr() as *mut u8;

        // Resolve imports in declaration order; each kind takes the next index
        // of its index space.
        let mut funcs: Vec<VMFuncRef> = vec_for(m.func_types.len())?;
        let mut host_funcs = vec_for(m.imports.len())?;
        let mut tables: Vec<Rc<Table>> = vec_for(m.tables.len())?;
        let mut globals: Vec<Rc<Global>> = vec_for(m.globals.len())?;
        let mut memory = None;
        let mut deps = Vec::new();
        for (i, (imp, ext)) in m.imports.iter().zip(imports).enumerate() {
            let err = |reason| Unlinkable(LinkError { import: i, reason });
            match (&imp.kind, ext) {
                (ImportKind::Func(ty), Extern::Func(f)) => {
                    let fidx = funcs.len();
                    let want = type_ids
                        .get(usize_of(*ty))
                        .copied()
                        .ok_or(BadModule("func type"))?;
                    match f {
                        Func::Wasm { instance, index } => {
                            let r = *instance
                                .funcs
                                .get(usize_of(index))
                                .ok_or(err("no such function"))?;
                            if u64::from(want) != r.type_id {
                                return Err(err("function type mismatch"));
                            }
                            funcs.push(r);
                            host_funcs.push(None);
                            deps.push(instance);
                        }
                        Func::Host { func, ty: hty } => {
                            if registry.intern(&hty) != want {
                                return Err(err("function type mismatch"));
                            }
                            let adapter = m
                                .import_adapters
                                .get(fidx)
                                .map(|&a| usize_of(a))
                                .filter(|&a| a < m.code.len())
                                .ok_or(BadModule("import adapter offset"))?;
                            funcs.push(VMFuncRef {
                                // SAFETY: adapter < code length (checked above), so this stays inside the code copy.
                                code: unsafe { code_base.add(adapter) },
                                vmctx: self_vmctx,
                                type_id: u64::from(want),
                            });
                            host_funcs.push(Some((func, hty)));
                        }
                    }
                }
                (ImportKind::Table, Extern::Table(t)) => {
                    let desc = m
                        .tables
                        .get(tables.len())
                        .ok_or(BadModule("table import"))?;
                    check_table(desc, &t).map_err(err)?;
                    tables.push(t);
                }
                (ImportKind::Memory, Extern::Memory(mem)) => {
                    let desc = m.memory.as_ref().ok_or(BadModule("memory import"))?;
                    check_memory(desc, &mem).map_err(err)?;
                    memory = Some(mem);
                }
                (ImportKind::Global, Extern::Global(g)) => {
                    let desc = m
                        .globals
                        .get(globals.len())
                        .ok_or(BadModule("global import"))?;
                    check_global(desc, &g).map_err(err)?;
                    globals.push(g);
                }
                _ => return Err(err("import kind mismatch")),
            }
        }
        if funcs.len() != usize_of(m.num_imported_funcs) {
            return Err(BadModule("imported function count"));
        }

        // Defined functions.
        for &(offset, _len) in &m.funcs {
            let idx = funcs.len();
            let type_id = type_id_of_func(idx).ok_or(BadModule("func type"))?;
            if usize_of(offset) >= m.code.len() {
                return Err(BadModule("function offset"));
            }
            funcs.push(VMFuncRef {
                // SAFETY: offset < code length (checked above).
                code: unsafe { code_base.add(usize_of(offset)) },
                vmctx: self_vmctx,
                type_id: u64::from(type_id),
            });
        }
        if funcs.len() != m.func_types.len() {
            return Err(BadModule("function count"));
        }
        let funcs: Box<[VMFuncRef]> = funcs.into_boxed_slice();

        // Defined memory.
        if let Some(desc) = m.memory.filter(|d| !d.imported) {
            let mem = Memory::new(&**platform, desc.limits).ok_or(Resource("linear memory"))?;
            memory = Some(Rc::new(mem));
        }
        // Defined tables start out null (wasm 2.0 has no table initialisers).
        for desc in m.tables.iter().skip(tables.len()) {
            // The platform caps table storage at creation as at growth.
            if !platform.table_growth_allowed(0, desc.limits.min) {
                return Err(Resource("table size"));
            }
            let t = Table::new(desc.elem, desc.limits, 0).ok_or(Resource("table"))?;
            tables.push(Rc::new(t));
        }
        // Defined globals, in order: an initialiser may read earlier globals.
        for desc in m.globals.iter().skip(globals.len()) {
            let init = desc
                .init
                .as_ref()
                .ok_or(BadModule("global without initialiser"))?;
            let env = ConstEnv {
                globals: &globals,
                funcs: &funcs,
            };
            let v = eval(init, &env).ok_or(BadModule("global initialiser"))?;
            globals.push(Rc::new(Global::new(desc.ty, desc.mutable, v)));
        }
        if tables.len() != m.tables.len() || globals.len() != m.globals.len() {
            return Err(BadModule("import/definition counts"));
        }

        // Element segments are evaluated once, at instantiation.
        let mut elem_items = vec_for(m.elements.len())?;
        for seg in &m.elements {
            let env = ConstEnv {
                globals: &globals,
                funcs: &funcs,
            };
            let mut items: Vec<u64> = vec_for(seg.items.len())?;
            for e in &seg.items {
                items.push(eval(e, &env).ok_or(BadModule("element item"))?);
            }
            elem_items.push(items);
        }

        // Plan the segment initialisations, checking everything but bounds
        // now: once the first write is done, only a trap (which keeps the
        // instance alive) may stop instantiation.
        let mut plan = vec_for(m.elements.len() + m.data.len())?;
        let env = ConstEnv {
            globals: &globals,
            funcs: &funcs,
        };
        for (seg, e) in m.elements.iter().enumerate() {
            match e.mode {
                SegmentMode::Passive => {}
                SegmentMode::Declared => plan.push(SegmentInit::DropElem { seg }),
                SegmentMode::Active { table, offset } => {
                    let offset = eval_offset(&offset, &env).ok_or(BadModule("element offset"))?;
                    let table = usize_of(table);
                    if table >= tables.len() {
                        return Err(BadModule("element segment table"));
                    }
                    plan.push(SegmentInit::Elem { seg, table, offset });
                }
            }
        }
        for (seg, d) in m.data.iter().enumerate() {
            if let SegmentMode::Active { offset, .. } = d.mode {
                let offset = eval_offset(&offset, &env).ok_or(BadModule("data offset"))?;
                if memory.is_none() {
                    return Err(BadModule("data segment without memory"));
                }
                plan.push(SegmentInit::Data { seg, offset });
            }
        }
        if m.memory.is_some() != memory.is_some() {
            return Err(BadModule("memory import/definition"));
        }

        // An inline global's value moves to its cell in the header; its
        // `Global` is then only the initial value, never handed out.
        let mut global_ptrs = vec_for(globals.len())?;
        for (i, (g, desc)) in globals.iter().zip(&m.globals).enumerate() {
            let ptr = if desc.inline {
                if desc.init.is_none() {
                    return Err(BadModule("inline imported global"));
                }
                let cell = header
                    .get(HEADER_WORDS + i)
                    .ok_or(BadModule("global cell"))?;
                // SAFETY: nothing else references the header yet.
                unsafe { *cell.get() = g.get() };
                cell.get()
            } else {
                g.ptr()
            };
            global_ptrs.push(ptr);
        }
        let global_ptrs: Box<[*mut u64]> = global_ptrs.into_boxed_slice();
        let mut table_ptrs = vec_for(tables.len())?;
        table_ptrs.extend(tables.iter().map(|t| t.vm_ptr()));
        let table_ptrs: Box<[*mut VMTable]> = table_ptrs.into_boxed_slice();
        let (flags, mask) = platform.safepoint_word();
        // Code with the mask built in polls the wrong bits anywhere else.
        if m.safepoint_mask.is_some_and(|built_in| built_in != mask) {
            return Err(BadModule("compiled for another safepoint mask"));
        }
        {
            let mem_ptr: *mut VMMemory = memory
                .as_ref()
                .map_or(core::ptr::null_mut(), |m| m.vm_ptr());
            let mem_base = memory.as_ref().map_or(core::ptr::null_mut(), |m| m.base());
            let fields = [
                (vmctx::MEMORY, mem_ptr as u64),
                (vmctx::MEMORY_BASE, mem_base as u64),
                (vmctx::STACK_LIMIT, platform.stack_limit()),
                (vmctx::SAFEPOINT_FLAGS, flags as u64),
                (vmctx::SAFEPOINT_MASK, mask),
                (vmctx::HOSTCALL, platform.hostcall() as usize as u64),
                (vmctx::FUNCS, funcs.as_ptr() as u64),
                (vmctx::GLOBALS, global_ptrs.as_ptr() as u64),
                (vmctx::TABLES, table_ptrs.as_ptr() as u64),
                (vmctx::TYPE_IDS, type_ids.as_ptr() as u64),
            ];
            for (offset, v) in fields {
                // SAFETY: nothing else references the header yet.
                unsafe { *header[slot(offset)].get() = v };
            }
        }

        let mut data_dropped = vec_for(m.data.len())?;
        data_dropped.extend((0..m.data.len()).map(|_| Cell::new(false)));
        let inst = Rc::new(Self {
            module: module.clone(),
            platform: platform.clone(),
            code_base,
            header,
            funcs,
            type_ids,
            globals,
            _global_ptrs: global_ptrs,
            tables,
            _table_ptrs: table_ptrs,
            memory,
            host_funcs,
            _deps: deps,
            data_dropped,
            elem_items: RefCell::new(elem_items),
        });
        inst.set_header(vmctx::RUNTIME, Rc::as_ptr(&inst) as u64);

        match inst.apply_segments(&plan) {
            Ok(()) => Ok(inst),
            Err(trap) => Err(Trap(trap, inst)),
        }
    }

    /// Applies the planned segment initialisations in order and stops at the
    /// first out-of-bounds one (earlier effects stay, as wasm 2.0 says).
    fn apply_segments(&self, plan: &[SegmentInit]) -> Result<(), Trap> {
        for step in plan {
            match *step {
                SegmentInit::Elem { seg, table, offset } => {
                    let ok = {
                        let all = self.elem_items.borrow();
                        match (self.tables.get(table), all.get(seg)) {
                            (Some(t), Some(items)) => t.write(offset, items),
                            // Ruled out when the plan was made.
                            _ => false,
                        }
                    };
                    if !ok {
                        return Err(Trap::TableOutOfBounds);
                    }
                    self.drop_elem(seg);
                }
                SegmentInit::DropElem { seg } => self.drop_elem(seg),
                SegmentInit::Data { seg, offset } => {
                    let ok = match (&self.memory, self.module.data.get(seg)) {
                        (Some(mem), Some(d)) => mem.write(offset, &d.bytes),
                        // Ruled out when the plan was made.
                        _ => false,
                    };
                    if !ok {
                        return Err(Trap::MemoryOutOfBounds);
                    }
                    if let Some(d) = self.data_dropped.get(seg) {
                        d.set(true);
                    }
                }
            }
        }
        Ok(())
    }

    fn drop_elem(&self, seg: usize) {
        if let Some(items) = self.elem_items.borrow_mut().get_mut(seg) {
            *items = Vec::new();
        }
    }

    fn set_header(&self, offset: i32, v: u64) {
        // SAFETY: the header is only written here, from the runtime, while no compiled code of this instance runs on another thread.
        unsafe { *self.header[slot(offset)].get() = v };
    }

    /// The `VMContext` pointer passed to compiled code.
    pub fn vmctx(&self) -> *mut u8 {
        self.header.as_ptr() as *mut u8
    }

    /// Recovers the instance from a `VMContext` created by [`Instance::new`].
    ///
    /// # Safety
    ///
    /// `vmctx` must be the context of a live `Instance<P>` with this `P`.
    pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> &'a Self {
        // SAFETY: the caller guarantees vmctx is a live instance's header, whose RUNTIME word holds the address of the `Instance` (set in `new`).
        unsafe {
            let p = *(vmctx.add(slot(vmctx::RUNTIME) * 8) as *const *const Self);
            &*p
        }
    }

    /// Sets the lowest stack pointer compiled code may reach (per entry on
    /// runtimes that switch stacks).
    pub fn set_stack_limit(&self, limit: u64) {
        self.set_header(vmctx::STACK_LIMIT, limit);
    }

    /// The compiled module.
    pub fn module(&self) -> &Arc<CompiledModule> {
        &self.module
    }

    /// The platform.
    pub fn platform(&self) -> &Rc<P> {
        &self.platform
    }

    /// What compiled code does at a safepoint: if any of the platform's
    /// safepoint bits are set, runs [`Platform::safepoint`]. For builtins
    /// that loop over work whose size the guest chooses.
    pub fn poll_safepoint(&self) -> Result<(), Trap> {
        let (word, mask) = self.platform.safepoint_word();
        // Other threads and CPUs set bits in the word at any time (atomic
        // bit operations, the host runner's watchdog): read it atomically.
        // SAFETY: the platform keeps the aligned word valid while instances exist (`Platform::safepoint_word`), and every access to it is atomic.
        let word = unsafe { AtomicU64::from_ptr(word.cast_mut()) };
        if word.load(Ordering::Relaxed) & mask == 0 {
            return Ok(());
        }
        self.platform.safepoint(self)
    }

    /// Start of this instance's executable code.
    pub fn code_base(&self) -> *const u8 {
        self.code_base
    }

    /// Function references, one per function index.
    pub fn funcs(&self) -> &[VMFuncRef] {
        &self.funcs
    }

    /// Canonical signature id per module type index.
    pub fn type_ids(&self) -> &[u32] {
        &self.type_ids
    }

    /// The linear memory, if any.
    pub fn memory(&self) -> Option<&Rc<Memory<P::Region>>> {
        self.memory.as_ref()
    }

    /// Table `i`.
    pub fn table(&self, i: u32) -> Option<&Rc<Table>> {
        self.tables.get(usize_of(i))
    }

    /// Global `i`; `None` for an inline global, whose value only the
    /// instance's code can reach ([`kwasm_abi::GlobalDesc::inline`]).
    pub fn global(&self, i: u32) -> Option<&Rc<Global>> {
        if self.module.globals.get(usize_of(i))?.inline {
            return None;
        }
        self.globals.get(usize_of(i))
    }

    /// The host function bound to imported function `i`, with its type.
    pub fn host_func(&self, i: u32) -> Option<&(P::HostFunc, FuncType)> {
        self.host_funcs.get(usize_of(i))?.as_ref()
    }

    /// Whether data segment `i` has been dropped.
    pub(crate) fn data_dropped(&self, i: u32) -> Option<&Cell<bool>> {
        self.data_dropped.get(usize_of(i))
    }

    /// Evaluated element segments.
    pub(crate) fn elem_items(&self) -> &RefCell<Vec<Vec<u64>>> {
        &self.elem_items
    }

    /// Looks up an export.
    pub fn export(self: &Rc<Self>, name: &str) -> Option<Extern<P>> {
        Some(match self.module.export(name)? {
            ExportKind::Func(i) => Extern::Func(Func::Wasm {
                instance: self.clone(),
                index: i,
            }),
            ExportKind::Table(i) => Extern::Table(self.table(i)?.clone()),
            ExportKind::Memory => Extern::Memory(self.memory.clone()?),
            ExportKind::Global(i) => Extern::Global(self.global(i)?.clone()),
        })
    }

    /// The type of function `i`.
    pub fn func_type(&self, i: u32) -> Option<&FuncType> {
        let ty = self.module.func_types.get(usize_of(i))?;
        self.module.types.get(usize_of(*ty))
    }
}

/// Header word index of a `vmctx` field offset.
const fn slot(offset: i32) -> usize {
    offset as usize / 8
}

/// An empty vector with room for exactly `n` elements, or `Resource` if the
/// allocator refuses (so filling it up to `n` never allocates again).
fn vec_for<T, P: Platform>(n: usize) -> Result<Vec<T>, InstantiateError<P>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| InstantiateError::Resource("memory"))?;
    Ok(v)
}
