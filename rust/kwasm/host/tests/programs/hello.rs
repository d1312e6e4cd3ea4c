// SPDX-License-Identifier: GPL-2.0
//! Test program: greets its first argument, exits with the argument count.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let who = args.get(1).map(String::as_str).unwrap_or("world");
    println!("Hello, {who}!");
    eprintln!("to stderr");
    let v: Vec<u64> = (1..=10).map(|x| x * x).collect();
    println!("sum of squares: {}", v.iter().sum::<u64>());
    std::process::exit(args.len() as i32);
}
