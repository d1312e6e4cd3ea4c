// SPDX-License-Identifier: GPL-2.0

//! The first kwasm program: greets its first argument.
//!
//! `./hello.wasm world` prints `Hello, world!`.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".into());
    println!("Hello, {name}!");
}
