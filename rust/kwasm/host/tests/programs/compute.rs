// SPDX-License-Identifier: GPL-2.0
//! Test program: exercises the allocator, collections, floats, dynamic
//! dispatch and deep-ish recursion; `panic` as first argument panics.
use std::collections::{BTreeMap, HashMap};

trait Shape {
    fn area(&self) -> f64;
}
struct Circle(f64);
struct Rect(f64, f64);
impl Shape for Circle {
    fn area(&self) -> f64 {
        std::f64::consts::PI * self.0 * self.0
    }
}
impl Shape for Rect {
    fn area(&self) -> f64 {
        self.0 * self.1
    }
}

fn ackermann(m: u64, n: u64) -> u64 {
    match (m, n) {
        (0, n) => n + 1,
        (m, 0) => ackermann(m - 1, 1),
        (m, n) => ackermann(m - 1, ackermann(m, n - 1)),
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("panic") {
        panic!("requested panic");
    }
    let mut sieve = vec![true; 100_000];
    sieve[0] = false;
    sieve[1] = false;
    for i in 2..sieve.len() {
        if sieve[i] {
            for j in (i * i..sieve.len()).step_by(i) {
                sieve[j] = false;
            }
        }
    }
    let primes: Vec<usize> = (0..sieve.len()).filter(|&i| sieve[i]).collect();
    println!("primes below 100000: {}", primes.len());
    let mut words: HashMap<String, usize> = HashMap::new();
    for w in "the quick brown fox jumps over the lazy dog the end".split(' ') {
        *words.entry(w.to_string()).or_default() += 1;
    }
    let sorted: BTreeMap<_, _> = words.into_iter().collect();
    println!("words: {sorted:?}");
    let shapes: Vec<Box<dyn Shape>> = vec![Box::new(Circle(1.5)), Box::new(Rect(2.0, 3.25))];
    let total: f64 = shapes.iter().map(|s| s.area()).sum();
    println!("area: {total:.6} sqrt2: {:.10}", 2f64.sqrt());
    let mut v: Vec<u32> = (0..1000).map(|i| (i * 7919) % 1009).collect();
    v.sort_unstable();
    println!("median: {} ackermann(2,3): {}", v[500], ackermann(2, 3));
}
