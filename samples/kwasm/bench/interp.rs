// SPDX-License-Identifier: GPL-2.0

//! Benchmark: a register-machine bytecode interpreter (an indirect branch
//! per instruction, which wasm turns into br_table, and small loads and
//! stores of the register file) running a Collatz step count.
//!
//! `interp [SCALE]`: SCALE is the amount of work in percent (default 100).

#[derive(Clone, Copy, Debug)]
enum Op {
    /// r[d] = imm
    Li(u8, u64),
    /// r[d] = r[a]
    Mov(u8, u8),
    /// r[d] = r[a] + r[b]
    Add(u8, u8, u8),
    /// r[d] = r[a] * r[b]
    Mul(u8, u8, u8),
    /// r[d] = r[a] & r[b]
    And(u8, u8, u8),
    /// r[d] = r[a] >> r[b]
    Shr(u8, u8, u8),
    /// r[d] = (r[a] == r[b]) as u64
    Eq(u8, u8, u8),
    /// r[d] = (r[a] <= r[b]) as u64
    Le(u8, u8, u8),
    /// pc = target
    Jmp(u32),
    /// if r[c] == 0 { pc = target }
    Jz(u8, u32),
    /// if r[c] != 0 { pc = target }
    Jnz(u8, u32),
    /// stop; the result is r[0]
    Halt,
}

fn scale() -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

fn run(code: &[Op]) -> ([u64; 16], u64) {
    let mut r = [0u64; 16];
    let mut pc = 0usize;
    let mut executed = 0u64;
    loop {
        let op = code[pc];
        pc += 1;
        executed += 1;
        match op {
            Op::Li(d, imm) => r[d as usize] = imm,
            Op::Mov(d, a) => r[d as usize] = r[a as usize],
            Op::Add(d, a, b) => r[d as usize] = r[a as usize].wrapping_add(r[b as usize]),
            Op::Mul(d, a, b) => r[d as usize] = r[a as usize].wrapping_mul(r[b as usize]),
            Op::And(d, a, b) => r[d as usize] = r[a as usize] & r[b as usize],
            Op::Shr(d, a, b) => r[d as usize] = r[a as usize] >> (r[b as usize] & 63),
            Op::Eq(d, a, b) => r[d as usize] = u64::from(r[a as usize] == r[b as usize]),
            Op::Le(d, a, b) => r[d as usize] = u64::from(r[a as usize] <= r[b as usize]),
            Op::Jmp(t) => pc = t as usize,
            Op::Jz(c, t) => {
                if r[c as usize] == 0 {
                    pc = t as usize
                }
            }
            Op::Jnz(c, t) => {
                if r[c as usize] != 0 {
                    pc = t as usize
                }
            }
            Op::Halt => return (r, executed),
        }
    }
}

/// Bytecode for: total Collatz steps of 1..=limit (r0) and the largest
/// value any sequence reaches (r1).
fn collatz(limit: u64) -> Vec<Op> {
    use Op::*;
    // r2 n, r3 x, r4 scratch, r5 = 1, r6 = 3, r7 = limit
    const NEXT_N: u32 = 6;
    const STEP: u32 = 7;
    const EVEN: u32 = 14;
    const COUNT: u32 = 15;
    const DONE_N: u32 = 20;
    let code = vec![
        Li(0, 0),
        Li(1, 0),
        Li(2, 1),
        Li(5, 1),
        Li(6, 3),
        Li(7, limit),
        Mov(3, 2),   // NEXT_N: x = n
        Eq(4, 3, 5), // STEP
        Jnz(4, DONE_N),
        And(4, 3, 5),
        Jz(4, EVEN),
        Mul(3, 3, 6),
        Add(3, 3, 5),
        Jmp(COUNT),
        Shr(3, 3, 5), // EVEN
        Add(0, 0, 5), // COUNT
        Le(4, 3, 1),
        Jnz(4, STEP),
        Mov(1, 3),
        Jmp(STEP),
        Add(2, 2, 5), // DONE_N
        Le(4, 2, 7),
        Jnz(4, NEXT_N),
        Halt,
    ];
    debug_assert!(matches!(code[DONE_N as usize], Add(2, 2, 5)));
    code
}

/// The same computation in plain Rust, to check the interpreter.
fn collatz_direct(limit: u64) -> (u64, u64) {
    let (mut total, mut max) = (0u64, 0u64);
    for n in 1..=limit {
        let mut x = n;
        while x != 1 {
            x = if x & 1 == 0 {
                x >> 1
            } else {
                x.wrapping_mul(3).wrapping_add(1)
            };
            total += 1;
            max = max.max(x);
        }
    }
    (total, max)
}

fn main() {
    let limit = 300_000 * scale() / 100;
    let (r, executed) = run(&collatz(limit));
    assert_eq!((r[0], r[1]), collatz_direct(limit), "interpreter disagrees");
    println!(
        "interp: limit={limit} steps={} max={} instructions={executed}",
        r[0], r[1]
    );
}
