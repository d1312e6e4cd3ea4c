// SPDX-License-Identifier: GPL-2.0

//! Benchmark: `serde_json`. Generates a JSON document of records (strings
//! with escapes, integers, floats, nested arrays and objects, about
//! 2 MiB), then each pass parses it twice, into `serde_json::Value` and
//! into typed structs through serde's derive, walks the results, and
//! serializes both back (compact and pretty). Prints a checksum over
//! everything seen and written.

use kwasm_bench_crates::{fnv, rounds, Rng, FNV_START, WORDS};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    active: bool,
    score: f64,
    tags: Vec<String>,
    owner: Owner,
    samples: Vec<i64>,
    note: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Owner {
    login: String,
    email: String,
    uid: u32,
}

fn records(n: usize) -> Vec<Record> {
    let mut rng = Rng::new(0x5eed_0002);
    (0..n)
        .map(|i| {
            let word = |rng: &mut Rng| rng.pick(WORDS).to_string();
            Record {
                id: i as u64 * 7919,
                name: format!(
                    "{} \"{}\"\t{}",
                    word(&mut rng),
                    word(&mut rng),
                    word(&mut rng)
                ),
                active: rng.below(3) != 0,
                score: (rng.below(1_000_000) as f64) / 997.0 - 300.0,
                tags: (0..rng.below(6)).map(|_| word(&mut rng)).collect(),
                owner: Owner {
                    login: word(&mut rng),
                    email: format!("{}@{}.example", word(&mut rng), word(&mut rng)),
                    uid: rng.below(65536) as u32,
                },
                samples: (0..4 + rng.below(12))
                    .map(|_| rng.below(2_000_000) as i64 - 1_000_000)
                    .collect(),
                note: (rng.below(4) == 0).then(|| format!("caf\u{e9} \\ {}\n", rng.next_u64())),
            }
        })
        .collect()
}

/// Folds every scalar in `v` into a hash, in document order.
fn walk(v: &Value, h: u64) -> u64 {
    match v {
        Value::Null => fnv(h, b"n"),
        Value::Bool(b) => fnv(h, &[*b as u8]),
        Value::Number(n) => match n.as_i64() {
            Some(i) => fnv(h, &i.to_le_bytes()),
            None => fnv(h, &n.as_f64().unwrap().to_bits().to_le_bytes()),
        },
        Value::String(s) => fnv(h, s.as_bytes()),
        Value::Array(a) => a.iter().fold(fnv(h, b"["), |h, v| walk(v, h)),
        Value::Object(o) => o
            .iter()
            .fold(fnv(h, b"{"), |h, (k, v)| walk(v, fnv(h, k.as_bytes()))),
    }
}

fn main() {
    let passes = rounds(10);
    let doc = serde_json::to_string(&records(6000)).unwrap();
    let mut check = FNV_START;
    for _ in 0..passes {
        let v: Value = serde_json::from_str(&doc).unwrap();
        check = walk(&v, check);
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        check = fnv(check, &pretty.as_bytes()[pretty.len() - 256..]) ^ pretty.len() as u64;

        let typed: Vec<Record> = serde_json::from_str(&doc).unwrap();
        let mut sum = 0f64;
        for r in &typed {
            sum += r.score;
            check = check.wrapping_add(r.id ^ r.owner.uid as u64);
            check = check.wrapping_add(r.samples.iter().sum::<i64>() as u64);
            check ^= r.tags.len() as u64 + r.note.as_ref().map_or(0, |n| n.len()) as u64;
        }
        check = check.rotate_left(9) ^ sum.to_bits();
        let compact = serde_json::to_string(&typed).unwrap();
        check = fnv(check, compact.as_bytes());
    }
    println!(
        "json: passes={passes} bytes={} checksum={check:016x}",
        doc.len()
    );
}
