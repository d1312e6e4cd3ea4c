// SPDX-License-Identifier: GPL-2.0

//! Prints each argument (including argv[0]) on its own line, bracketed, so
//! a test can check the exact argv that WASI args_get returns.

fn main() {
    for a in std::env::args() {
        println!("[{a}]");
    }
}
