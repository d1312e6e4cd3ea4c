// SPDX-License-Identifier: GPL-2.0

//! Benchmark: RustCrypto's `sha3` (Keccak-f[1600]: 64-bit rotates, xors
//! and a 200-byte state). Checks the FIPS 202 known answers, then hashes a
//! 1 MiB buffer with SHA3-256 and SHA3-512 and squeezes SHAKE128 output,
//! each digest feeding the next pass. Prints the final digest.

use kwasm_bench_crates::rounds;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Sha3_512, Shake128};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    assert_eq!(
        hex(&Sha3_256::digest(b"abc")),
        "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
    );
    let mut xof = Shake128::default();
    xof.update(b"");
    let mut out = [0u8; 16];
    xof.finalize_xof().read(&mut out);
    assert_eq!(hex(&out), "7f9c2ba4e88f827d616045507605853e");

    let passes = rounds(100);
    let mut buf: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut digest = [0u8; 32];
    for pass in 0..passes {
        let i = (pass as usize * 4099) % (buf.len() - 32);
        buf[i..i + 32].copy_from_slice(&digest);
        let d256 = Sha3_256::digest(&buf);
        let d512 = Sha3_512::digest(&buf[..buf.len() / 2]);
        let mut shake = Shake128::default();
        Update::update(&mut shake, &d256);
        Update::update(&mut shake, &d512);
        let mut reader = shake.finalize_xof();
        // Squeeze 64 KiB of XOF output into the buffer's tail.
        let tail = buf.len() - 65536;
        reader.read(&mut buf[tail..]);
        for (d, (a, b)) in digest.iter_mut().zip(d256.iter().zip(d512.iter())) {
            *d = a ^ b;
        }
    }
    println!("sha3: passes={passes} digest={}", hex(&digest));
}
