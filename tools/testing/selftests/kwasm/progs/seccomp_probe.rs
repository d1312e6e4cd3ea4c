// SPDX-License-Identifier: GPL-2.0

//! Makes the host calls a seccomp filter is tested on (kwasm_seccomp_test):
//! kwasm_net socket(AF_INET) and socket(AF_UNIX), opening a file in the
//! preopened directory, and clock_time_get (a leaf call when no policy
//! applies, leaf.rs). Prints one line each: "ok" or the WASI errno.

#[link(wasm_import_module = "kwasm_net")]
extern "C" {
    fn socket(domain: i32, ty: i32, protocol: i32, fd: *mut u32) -> u16;
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> u16;
}

const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;

/// Two monotonic readings in order and a realtime reading between 2020 and
/// 2100: "ok", else the errno (or 255 for implausible values).
fn clocks() -> u16 {
    let (mut t1, mut t2, mut real) = (0u64, 0u64, 0u64);
    for (id, t) in [
        (MONOTONIC, &mut t1),
        (MONOTONIC, &mut t2),
        (REALTIME, &mut real),
    ] {
        // SAFETY: `t` is a valid out pointer.
        let e = unsafe { clock_time_get(id, 1, t) };
        if e != 0 {
            return e;
        }
    }
    let secs = real / 1_000_000_000;
    if t1 == 0 || t2 < t1 || !(1_577_836_800..4_102_444_800).contains(&secs) {
        return 255;
    }
    0
}

const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const SOCK_STREAM: i32 = 1;

fn report(what: &str, errno: u16) {
    if errno == 0 {
        println!("{what}: ok");
    } else {
        println!("{what}: errno {errno}");
    }
}

fn main() {
    let mut fd = 0;
    // SAFETY: `fd` is a valid out pointer.
    report("socket(AF_INET)", unsafe {
        socket(AF_INET, SOCK_STREAM, 0, &mut fd)
    });
    // SAFETY: as above.
    report("socket(AF_UNIX)", unsafe {
        socket(AF_UNIX, SOCK_STREAM, 0, &mut fd)
    });
    let open = std::fs::File::open("seccomp_probe.wasm");
    report(
        "open",
        open.err()
            .map_or(0, |e| e.raw_os_error().unwrap_or(-1) as u16),
    );
    report("clock", clocks());
}
