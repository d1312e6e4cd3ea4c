// SPDX-License-Identifier: GPL-2.0

//! Benchmark: sorting pseudo-random data (memory traffic, data-dependent
//! branches): an unstable sort of u64 keys and a stable sort of
//! (key, index) records by a narrow key, whose order among equal keys the
//! checksum also sees.
//!
//! `sort [SCALE]`: SCALE is the amount of work in percent (default 100).

const N: usize = 1 << 20;

fn scale() -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// splitmix64: a fixed sequence, identical on every engine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Order-sensitive hash of a sequence.
fn fold(acc: u64, v: u64) -> u64 {
    (acc ^ v).wrapping_mul(0x0000_0100_0000_01b3)
}

fn main() {
    let rounds = 18 * scale() / 100;
    let mut rng = Rng(42);
    let mut keys = vec![0u64; N];
    let mut recs = vec![(0u16, 0u32); N];
    let mut check = 0xcbf2_9ce4_8422_2325u64;
    for _ in 0..rounds {
        for k in keys.iter_mut() {
            *k = rng.next();
        }
        keys.sort_unstable();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        check = keys.iter().step_by(97).fold(check, |a, &k| fold(a, k));

        // Many equal keys: the stable sort must keep the index order.
        for (i, r) in recs.iter_mut().enumerate() {
            *r = (rng.next() as u16, i as u32);
        }
        recs.sort_by_key(|r| r.0);
        check = recs.iter().step_by(89).fold(check, |a, r| {
            fold(a, (u64::from(r.0) << 32) | u64::from(r.1))
        });
    }
    println!("sort: rounds={rounds} x {N} x 2 checksum={check:016x}");
}
