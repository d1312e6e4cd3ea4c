// SPDX-License-Identifier: GPL-2.0

//! Executable copies of compiled code, and the process-wide registry the
//! signal handler uses to turn a faulting pc into a trap.

use std::sync::{Arc, RwLock, TryLockError};

use kwasm_abi::{CompiledModule, Symbol, Trap, TrapSite};

/// Compiled code copied into its own mapping and made read+execute.
#[derive(Debug)]
pub struct CodeMemory {
    ptr: *mut u8,
    len: usize,
    map_len: usize,
}

struct Entry {
    start: usize,
    end: usize,
    sites: Arc<[TrapSite]>,
}

/// Code ranges currently mapped. Written only when code is loaded or freed;
/// read from the signal handler with `try_read` (never blocking there).
static REGISTRY: RwLock<Vec<Entry>> = RwLock::new(Vec::new());

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).unwrap_or(4096).max(4096)
}

impl CodeMemory {
    /// Copies the module's code to a fresh mapping, points its host calls at
    /// `hostcall` and its thunk branches at user-space copies of the
    /// kernel's thunks (retpolines, a plain return thunk), makes it RX, and
    /// registers its trap sites for the signal handler.
    pub fn new(module: &CompiledModule, hostcall: usize) -> std::io::Result<Self> {
        let code = &module.code;
        let trap_sites = &module.trap_sites[..];
        let page = page_size();
        // The last page holds what the code's rel32 branches reach: the
        // veneer to `hostcall` (anywhere in the address space) and thunks.
        let code_pages = code.len().max(1).div_ceil(page) * page;
        let map_len = code_pages + page;
        // SAFETY: a new anonymous private mapping; no existing memory touched.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr: *mut u8 = p.cast();
        // SAFETY: the mapping is map_len bytes, writable, ours alone, and cannot overlap `code`.
        let mem = unsafe { core::slice::from_raw_parts_mut(ptr, map_len) };
        mem[..code.len()].copy_from_slice(code);
        let veneer = ptr as usize + code_pages;
        mem[code_pages..code_pages + 13].copy_from_slice(&jump_veneer(hostcall));
        for reg in 0..16u8 {
            let at = code_pages + THUNKS + usize::from(reg) * THUNK_SIZE;
            mem[at..at + 17].copy_from_slice(&retpoline(reg));
        }
        let ret_at = code_pages + THUNKS + 16 * THUNK_SIZE;
        mem[ret_at..ret_at + 2].copy_from_slice(&[0xc3, 0xcc]);
        let relocated = module.relocate(&mut mem[..code.len()], ptr as usize, |s| match s {
            Symbol::HostCall => Some(veneer),
            Symbol::IndirectThunk(r) if r < 16 => {
                Some(veneer + THUNKS + usize::from(r) * THUNK_SIZE)
            }
            Symbol::IndirectThunk(_) => None,
            Symbol::ReturnThunk => Some(veneer + THUNKS + 16 * THUNK_SIZE),
        });
        if let Err(e) = relocated {
            // SAFETY: our own mapping, not yet shared.
            unsafe { libc::munmap(p, map_len) };
            return Err(std::io::Error::other(format!("relocation: {e:?}")));
        }
        // SAFETY: changing the protection of our own mapping.
        if unsafe { libc::mprotect(p, map_len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            let e = std::io::Error::last_os_error();
            // SAFETY: our own mapping, not yet shared.
            unsafe { libc::munmap(p, map_len) };
            return Err(e);
        }
        if std::env::var_os("KWASM_PERF_MAP").is_some() {
            write_perf_map(module, ptr as usize);
        }
        if let Some(path) = std::env::var_os("KWASM_CODE_DUMP") {
            // For `objdump -D -b binary -m i386:x86-64 --adjust-vma=BASE`:
            // the relocated image, its base address on stderr. Best effort.
            eprintln!("kwasm: code at {ptr:p}, {} bytes", code.len());
            drop(std::fs::write(path, &code[..]));
        }
        let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        reg.push(Entry {
            start: ptr as usize,
            end: ptr as usize + code.len(),
            sites: trap_sites.into(),
        });
        Ok(Self {
            ptr,
            len: code.len(),
            map_len,
        })
    }

    /// Start of the executable copy.
    pub fn base(&self) -> *const u8 {
        self.ptr
    }

    /// Length of the code.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the code is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        reg.retain(|e| e.start != self.ptr as usize);
        drop(reg);
        // SAFETY: our own mapping; instances using it are gone (the store drops instances before modules).
        unsafe { libc::munmap(self.ptr.cast(), self.map_len) };
    }
}

/// Offset of the thunks in the last page, and the size of each.
const THUNKS: usize = 64;
const THUNK_SIZE: usize = 32;

/// A retpoline for `jmp *%reg`, as the kernel's
/// `__x86_indirect_thunk_<reg>`: `call 1f; 2: pause; lfence; jmp 2b;
/// 1: mov %reg, (%rsp); ret`.
fn retpoline(reg: u8) -> [u8; 17] {
    let rex = if reg < 8 { 0x48 } else { 0x4c };
    let modrm = ((reg & 7) << 3) | 0x04;
    [
        0xe8, 0x07, 0x00, 0x00, 0x00, // call 1f
        0xf3, 0x90, // pause
        0x0f, 0xae, 0xe8, // lfence
        0xeb, 0xf9, // jmp 2b
        rex, 0x89, modrm, 0x24, // mov %reg, (%rsp)
        0xc3, // ret
    ]
}

/// `movabs $target, %r11; jmp *%r11` (%r11 carries no argument).
fn jump_veneer(target: usize) -> [u8; 13] {
    let mut v = [0u8; 13];
    v[..2].copy_from_slice(&[0x49, 0xbb]);
    v[2..10].copy_from_slice(&(target as u64).to_le_bytes());
    v[10..].copy_from_slice(&[0x41, 0xff, 0xe3]);
    v
}

/// What the signal handler learns about a pc.
pub(crate) enum PcInfo {
    /// Not in any compiled code.
    Foreign,
    /// In compiled code at `offset`, but not a trap site (a compiler bug).
    NoSite(usize),
    /// A trap site.
    Trap(Trap),
}

/// Classifies `pc`. Called from the signal handler: it never blocks (a
/// writer holds the lock only for a push or retain, so spinning on
/// `try_read` ends quickly; the faulting thread itself never holds it while
/// running wasm).
pub(crate) fn lookup_pc(pc: usize) -> PcInfo {
    for _ in 0..10_000_000u32 {
        let guard = match REGISTRY.try_read() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(reg) = guard {
            for e in reg.iter() {
                if pc >= e.start && pc < e.end {
                    let off = pc - e.start;
                    let site = u32::try_from(off)
                        .ok()
                        .and_then(|o| e.sites.binary_search_by_key(&o, |s| s.offset).ok());
                    return match site {
                        Some(i) => PcInfo::Trap(e.sites[i].trap),
                        None => PcInfo::NoSite(off),
                    };
                }
            }
            return PcInfo::Foreign;
        }
        std::hint::spin_loop();
    }
    PcInfo::Foreign
}

/// Appends the module's functions to `/tmp/perf-PID.map`, the file `perf
/// report` reads to name JIT code, as `wasm[INDEX]` (set `KWASM_PERF_MAP`).
/// Best effort: a profiling aid, failures are ignored.
fn write_perf_map(module: &CompiledModule, base: usize) {
    use std::io::Write;
    let mut map = String::new();
    for (i, (off, len)) in module.funcs.iter().enumerate() {
        let index = i as u32 + module.num_imported_funcs;
        let start = base + *off as usize;
        map.push_str(&format!("{start:x} {len:x} wasm[{index}]\n"));
    }
    let stub = base + module.safepoint_stub as usize;
    map.push_str(&format!("{stub:x} 10 kwasm_safepoint_stub\n"));
    let path = format!("/tmp/perf-{}.map", std::process::id());
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        drop(f.write_all(map.as_bytes()));
    }
}
