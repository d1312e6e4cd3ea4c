// SPDX-License-Identifier: GPL-2.0

//! Debug helper: compiles a .wasm or .wat file and writes the raw code to
//! `<out>` (disassemble with `objdump -D -b binary -mi386:x86-64 <out>`),
//! printing function offsets and trap sites. With a third argument `--ops`,
//! also prints the operators of every function body. `KWASM_VERIFY=0` turns
//! the Cranelift verifier off (the kernel's setting).

use kwasm_compiler::{compile, Config, IsaFeatures};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: kwasm-compile <in.wasm|in.wat> <out.bin>");
        std::process::exit(2);
    };
    let bytes = std::fs::read(input).expect("read input");
    let wasm = wat::parse_bytes(&bytes).expect("wat").into_owned();
    let config = Config {
        features: IsaFeatures::baseline(),
        // KWASM_VERIFY=0 measures compile speed as the kernel runs it.
        verify: std::env::var("KWASM_VERIFY").map_or(true, |v| v != "0"),
        ..Config::default()
    };
    let start = std::time::Instant::now();
    let m = match compile(&wasm, &config) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "{} bytes of wasm -> {} bytes of code in {:?}",
        wasm.len(),
        m.code.len(),
        start.elapsed()
    );
    for (i, (off, len)) in m.funcs.iter().enumerate() {
        println!(
            "func {} at {off:#x} len {len}",
            i as u32 + m.num_imported_funcs
        );
    }
    for (i, off) in m.trampolines.iter().enumerate() {
        println!("trampoline type {i} at {off:#x}");
    }
    for (i, off) in m.import_adapters.iter().enumerate() {
        println!("adapter {i} at {off:#x}");
    }
    for t in &m.trap_sites {
        println!("trap {:#x} {:?}", t.offset, t.trap);
    }
    std::fs::write(out, &m.code).expect("write output");
    if args.get(3).map(String::as_str) == Some("--ops") {
        print_ops(&wasm);
    }
}

fn print_ops(wasm: &[u8]) {
    use wasmparser::{Operator as O, Parser, Payload};
    let mut index = 0;
    for p in Parser::new(0).parse_all(wasm) {
        let Ok(p) = p else { return };
        match p {
            Payload::GlobalSection(r) => {
                for g in r.into_iter().flatten() {
                    println!(
                        "global {:?} = {:?}",
                        g.ty,
                        g.init_expr.get_operators_reader().read()
                    );
                }
            }
            Payload::CodeSectionEntry(body) => {
                println!("== defined function {index}");
                index += 1;
                for l in body.get_locals_reader().into_iter().flatten().flatten() {
                    println!("  local {l:?}");
                }
                let Ok(mut r) = body.get_operators_reader() else {
                    continue;
                };
                let mut depth = 1usize;
                while !r.eof() {
                    let Ok(op) = r.read() else { break };
                    if matches!(op, O::End | O::Else) {
                        depth = depth.saturating_sub(1);
                    }
                    println!("{}{op:?}", "  ".repeat(depth));
                    if matches!(
                        op,
                        O::Block { .. } | O::Loop { .. } | O::If { .. } | O::Else
                    ) {
                        depth += 1;
                    }
                }
            }
            _ => {}
        }
    }
}
