// SPDX-License-Identifier: GPL-2.0
//! Temporary debugging aid (not part of the suite).
mod common;
#[test]
#[ignore]
fn steps() {
    let wasm = std::fs::read(std::env::var("ADHOC_WASM").unwrap()).unwrap();
    let plan: &[(&str, u64)] = &[("%", 3400749595210926352), ("", 3297570355136795613), ("2", 2147483648), ("3", 65536)];
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &wasm).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let inst = wasmi::Linker::new(&engine).instantiate_and_start(&mut store, &module).unwrap();
    let m = kwasm_compiler::compile(&wasm, &common::config()).unwrap();
    let gnames: Vec<(String, u32)> = m.exports.iter().filter_map(|e| match e.kind { kwasm_abi::ExportKind::Global(g) => Some((e.name.clone(), g)), _ => None }).collect();
    let mut i = common::Instance::new(m);
    for (name, arg) in plan {
        let f = inst.get_func(&store, name).unwrap();
        let mut out: Vec<wasmi::Val> = f.ty(&store).results().iter().map(|t| wasmi::Val::default_for_ty(*t)).collect();
        let r = f.call(&mut store, &[wasmi::Val::I64(*arg as i64)], &mut out);
        let ours = i.call(name, &[*arg]);
        println!("call {name:?}: wasmi {r:?} {out:?} ours {ours:x?}");
        for (gn, gi) in &gnames {
            let w = inst.get_global(&store, gn).unwrap().get(&store);
            println!("   global {gi}: wasmi {w:?} ours {:#x}", i.global(*gi as usize));
        }
    }
}
