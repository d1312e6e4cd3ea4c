// SPDX-License-Identifier: GPL-2.0

//! End to end: a Rust `println!` program built for wasm32-wasip1 compiles.

use std::path::PathBuf;
use std::process::Command;

use kwasm_compiler::{compile, Config, IsaFeatures};

/// Builds the hello program with the toolchain's wasm32-wasip1 target, or
/// returns None if that target is not installed.
fn build_hello() -> Option<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hello");
    std::fs::create_dir_all(&dir).ok()?;
    let src = dir.join("hello.rs");
    std::fs::write(
        &src,
        "fn main() {\n    let arg = std::env::args().nth(1).unwrap_or_else(|| \"world\".to_string());\n    println!(\"Hello, {}!\", arg);\n}\n",
    )
    .ok()?;
    let out = dir.join("hello.wasm");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(rustc)
        .args(["--target", "wasm32-wasip1", "-O", "-C", "strip=debuginfo"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .ok()?;
    if !status.success() {
        eprintln!("wasm32-wasip1 target unavailable; skipping");
        return None;
    }
    std::fs::read(&out).ok()
}

#[test]
fn hello_world_compiles() {
    let Some(wasm) = build_hello() else { return };
    for verify in [true, false] {
        let config = Config {
            features: IsaFeatures::baseline(),
            verify,
            ..Config::default()
        };
        let m = compile(&wasm, &config).unwrap_or_else(|e| panic!("{e}"));
        assert!(!m.code.is_empty());
        assert!(m.num_imported_funcs > 0);
        assert_eq!(m.import_adapters.len(), m.num_imported_funcs as usize);
        assert_eq!(m.trampolines.len(), m.types.len());
        assert_eq!(
            m.funcs.len() + m.num_imported_funcs as usize,
            m.func_types.len()
        );
        assert!(m.export("_start").is_some());
        assert!(m.imports.iter().any(|i| i.name == "fd_write"));
        assert!(m.trap_sites.windows(2).all(|w| w[0].offset < w[1].offset));
        assert!(m
            .trap_sites
            .iter()
            .all(|t| (t.offset as usize) < m.code.len()));
    }
}
