// SPDX-License-Identifier: GPL-2.0

//! Float-heavy work whose result depends on every intermediate bit: a long
//! chain of f64/f32 operations, printed as raw bits. Run concurrently with
//! itself, any FPU state lost or mixed up under preemption shows as a
//! different line.

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let (mut a, mut b, mut c) = (1.000_000_1f64, 0.333_333_3f64, 2.5f32);
    for i in 0..rounds {
        a = (a * 1.000_000_3 + b / (a + 1.0)).sqrt() + 0.5;
        b = (b + (i as f64) * 1e-9).mul_add(0.999_999, a * 1e-7);
        c = c * 1.000_001 + (b as f32) * 1e-6 - (a as f32).floor() * 1e-6;
        if i % 1024 == 0 {
            a = a.min(1e6).max(-1e6);
        }
    }
    println!(
        "{:016x} {:016x} {:08x}",
        a.to_bits(),
        b.to_bits(),
        c.to_bits()
    );
}
