// SPDX-License-Identifier: GPL-2.0

//! What the benchmarks in src/bin/ share: the work scale from the command
//! line and a small deterministic generator for their input.

/// `PROGRAM [SCALE]`: SCALE is the amount of work in percent (default 100).
pub fn scale() -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// `base * scale / 100` rounds, at least one.
pub fn rounds(base: u64) -> u64 {
    (base * scale() / 100).max(1)
}

/// xorshift64*: the same sequence on every engine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Words the generators build text from.
pub const WORDS: &[&str] = &[
    "the",
    "kernel",
    "runs",
    "webassembly",
    "module",
    "compiled",
    "with",
    "cranelift",
    "into",
    "native",
    "code",
    "memory",
    "table",
    "function",
    "import",
    "export",
    "stack",
    "trap",
    "signal",
    "process",
    "thread",
    "scheduler",
    "page",
    "fault",
    "guard",
    "region",
    "bounds",
    "check",
    "branch",
    "return",
    "loop",
    "block",
    "value",
    "integer",
    "float",
    "vector",
    "load",
    "store",
    "global",
    "instance",
    "linker",
    "section",
    "custom",
    "name",
    "data",
    "element",
    "testing",
    "running",
    "mapping",
    "counting",
    "Linux",
    "Rust",
    "Wasm",
    "WASI",
    "QEMU",
];

/// FNV-1a over `bytes`, continuing from `h`.
pub fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Where an FNV-1a hash starts.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
