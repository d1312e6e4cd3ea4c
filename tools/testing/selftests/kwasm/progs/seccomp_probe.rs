// SPDX-License-Identifier: GPL-2.0

//! Makes the host calls a seccomp filter is tested on (kwasm_seccomp_test):
//! kwasm_net socket(AF_INET) and socket(AF_UNIX), and opening a file in the
//! preopened directory. Prints one line each: "ok" or the WASI errno.

#[link(wasm_import_module = "kwasm_net")]
extern "C" {
    fn socket(domain: i32, ty: i32, protocol: i32, fd: *mut u32) -> u16;
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
}
