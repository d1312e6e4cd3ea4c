// SPDX-License-Identifier: GPL-2.0

//! Benchmark: `miniz_oxide`, the deflate implementation behind flate2's
//! default backend. Compresses 1 MiB of generated text-like data (words,
//! numbers and some noise: it compresses to about a third) as a zlib
//! stream at levels 1, 6 and 9, decompresses each stream and checks the
//! round trip. Prints the compressed sizes and a checksum over the
//! compressed bytes.

use kwasm_bench_crates::{fnv, rounds, Rng, FNV_START, WORDS};
use miniz_oxide::deflate::compress_to_vec_zlib;
use miniz_oxide::inflate::decompress_to_vec_zlib;

const DATA_BYTES: usize = 1 << 20;

fn data() -> Vec<u8> {
    let mut rng = Rng::new(0x5eed_0003);
    let mut d = Vec::with_capacity(DATA_BYTES + 64);
    while d.len() < DATA_BYTES {
        match rng.below(10) {
            0 => d.extend_from_slice(format!("{} ", rng.below(1 << 20)).as_bytes()),
            1 => d.push(rng.next_u64() as u8),
            2 => d.push(b'\n'),
            _ => {
                d.extend_from_slice(rng.pick(WORDS).as_bytes());
                d.push(b' ');
            }
        }
    }
    d.truncate(DATA_BYTES);
    d
}

fn main() {
    let passes = rounds(8);
    let input = data();
    let mut check = FNV_START;
    let mut sizes = [0usize; 3];
    for _ in 0..passes {
        for (i, level) in [1u8, 6, 9].into_iter().enumerate() {
            let z = compress_to_vec_zlib(&input, level);
            sizes[i] = z.len();
            check = fnv(check, &z[z.len() - 64..]) ^ z.len() as u64;
            let back = decompress_to_vec_zlib(&z).expect("inflate");
            assert!(back == input, "round trip at level {level}");
            check = check.rotate_left(3) ^ fnv(FNV_START, &back[back.len() / 2..][..4096]);
        }
    }
    println!(
        "deflate: passes={passes} bytes={} level1={} level6={} level9={} checksum={check:016x}",
        input.len(),
        sizes[0],
        sizes[1],
        sizes[2]
    );
}
