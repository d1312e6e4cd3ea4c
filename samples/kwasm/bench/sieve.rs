// SPDX-License-Identifier: GPL-2.0

//! Benchmark: sieve of Eratosthenes (integer arithmetic, byte stores
//! striding through a 16 MB buffer, a counting loop).
//!
//! `sieve [SCALE]`: SCALE is the amount of work in percent (default 100).
//! Prints the prime count and a checksum over the primes found, which must
//! be the same whatever engine runs the program.

const LIMIT: usize = 16_000_000;

fn scale() -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// Marks composites in `sieve` (index = number) and returns the number of
/// primes below `sieve.len()` and a position-weighted sum of them.
fn run(sieve: &mut [u8]) -> (u64, u64) {
    sieve.fill(1);
    sieve[0] = 0;
    sieve[1] = 0;
    let n = sieve.len();
    let mut i = 2;
    while i * i < n {
        if sieve[i] != 0 {
            let mut j = i * i;
            while j < n {
                sieve[j] = 0;
                j += i;
            }
        }
        i += 1;
    }
    let (mut count, mut sum) = (0u64, 0u64);
    for (k, &p) in sieve.iter().enumerate() {
        if p != 0 {
            count += 1;
            sum = sum.wrapping_mul(31).wrapping_add(k as u64);
        }
    }
    (count, sum)
}

fn main() {
    // 16 passes take about a second natively; each pass varies the limit a
    // little so no pass can be skipped as a repeat of the previous one.
    let passes = (16 * scale() / 100).max(1);
    let mut sieve = vec![0u8; LIMIT];
    let (mut primes, mut check) = (0u64, 0u64);
    for pass in 0..passes {
        let len = LIMIT - (pass as usize % 8) * 1000;
        let (count, sum) = run(&mut sieve[..len]);
        primes += count;
        check = check.rotate_left(7) ^ sum ^ count;
    }
    println!("sieve: passes={passes} primes={primes} checksum={check:016x}");
}
