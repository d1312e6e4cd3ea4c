// SPDX-License-Identifier: GPL-2.0

//! Benchmark: the `regex` crate. Compiles a handful of patterns of the
//! kinds log and text tools use (alternations, classes, counted
//! repetition, captures, case folding, Unicode word boundaries) and runs
//! them over 1 MiB of generated text: counting matches, walking captures,
//! and one replace_all. Prints match counts and a checksum.

use kwasm_bench_crates::{fnv, rounds, Rng, FNV_START, WORDS};
use regex::Regex;

const TEXT_BYTES: usize = 1 << 20;

/// Lines of words with e-mail addresses, dates, times, numbers and
/// key=value pairs mixed in.
fn text() -> String {
    let mut rng = Rng::new(0x5eed_0001);
    let mut s = String::with_capacity(TEXT_BYTES + 256);
    while s.len() < TEXT_BYTES {
        let words = 4 + rng.below(12);
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            match rng.below(20) {
                0 => {
                    let user = rng.pick(WORDS);
                    let host = rng.pick(WORDS);
                    let tld = rng.pick(&["com", "org", "net", "io"]);
                    s.push_str(&format!("{user}.{}@{host}.{tld}", rng.below(100)));
                }
                1 => s.push_str(&format!(
                    "{}-{:02}-{:02}",
                    1990 + rng.below(40),
                    1 + rng.below(12),
                    1 + rng.below(28)
                )),
                2 => s.push_str(&format!(
                    "{:02}:{:02}:{:02}",
                    rng.below(24),
                    rng.below(60),
                    rng.below(60)
                )),
                3 => s.push_str(&format!("{}={}", rng.pick(WORDS), rng.below(100_000))),
                4 => s.push_str(&format!("{}", rng.next_u64() % 1_000_000_007)),
                _ => s.push_str(rng.pick(WORDS)),
            }
        }
        s.push_str(if rng.below(4) == 0 { ".\n" } else { "\n" });
    }
    s
}

// Each pass compiles its patterns again, on purpose (see below).
#[allow(clippy::regex_creation_in_loops)]
fn main() {
    let passes = rounds(40);
    let hay = text();
    let (mut matches, mut check) = (0u64, FNV_START);
    for _ in 0..passes {
        // Compiling is part of what a regex user pays for.
        let email = Regex::new(r"\b([a-z]+)\.(\d+)@([a-z]+)\.(com|org|net|io)\b").unwrap();
        let date = Regex::new(r"\b(\d{4})-(0[1-9]|1[0-2])-(\d{2})\b").unwrap();
        let time = Regex::new(r"\d\d:\d\d:\d\d").unwrap();
        let kv = Regex::new(r"(?P<key>[a-z]+)=(?P<value>[0-9]+)").unwrap();
        let ing = Regex::new(r"(?i)\b\w+ing\b").unwrap();
        let alt = Regex::new(r"kernel|module|(?:page|guard) fault|trap").unwrap();
        let line = Regex::new(r"(?m)^[A-Z]\w*\s.*\.$").unwrap();

        for c in email.captures_iter(&hay) {
            matches += 1;
            check = fnv(check, c[3].as_bytes());
            check = check.wrapping_add(c[2].parse::<u64>().unwrap());
        }
        for c in date.captures_iter(&hay) {
            matches += 1;
            let ymd = [&c[1], &c[2], &c[3]].map(|f| f.parse::<u64>().unwrap());
            check = check
                .wrapping_mul(31)
                .wrapping_add(ymd[0] * 400 + ymd[1] * 31 + ymd[2]);
        }
        for m in time.find_iter(&hay) {
            matches += 1;
            check ^= m.start() as u64;
        }
        let mut sum = 0u64;
        for c in kv.captures_iter(&hay) {
            matches += 1;
            sum += c["value"].parse::<u64>().unwrap() + c["key"].len() as u64;
        }
        check = check.wrapping_add(sum);
        for re in [&ing, &alt, &line] {
            let n = re.find_iter(&hay).count() as u64;
            matches += n;
            check = check.rotate_left(5) ^ n;
        }
        let replaced = kv.replace_all(&hay, "$value:$key");
        check = fnv(check, &replaced.as_bytes()[..4096]) ^ replaced.len() as u64;
    }
    println!(
        "regex: passes={passes} bytes={} matches={matches} checksum={check:016x}",
        hay.len()
    );
}
