// SPDX-License-Identifier: GPL-2.0

//! The `spectest` module the WebAssembly spec tests import.

use std::rc::Rc;

use kwasm_abi::{FuncType, Limits, RefType, ValType};
use kwasm_runtime::{Func, Global, Memory, Table};

use crate::platform::HostFunc;
use crate::store::HExtern;
use crate::Store;

/// The shared objects of one `spectest` instance (one per .wast file).
pub struct Spectest {
    table: Rc<Table>,
    memory: Rc<Memory<crate::platform::CappedRegion>>,
    globals: Vec<(&'static str, Rc<Global>)>,
    verbose: bool,
}

impl Spectest {
    /// Creates the table (10..20 funcref), memory (1..2 pages) and globals.
    pub fn new(store: &Store, verbose: bool) -> Option<Self> {
        let table = Table::new(
            RefType::FuncRef,
            Limits {
                min: 10,
                max: Some(20),
            },
            0,
        )?;
        let memory = Memory::new(
            &**store.platform(),
            Limits {
                min: 1,
                max: Some(2),
            },
        )?;
        let g = |ty, v| Rc::new(Global::new(ty, false, v));
        Some(Self {
            table: Rc::new(table),
            memory: Rc::new(memory),
            globals: vec![
                ("global_i32", g(ValType::I32, 666)),
                ("global_i64", g(ValType::I64, 666)),
                ("global_f32", g(ValType::F32, u64::from(666.6f32.to_bits()))),
                ("global_f64", g(ValType::F64, 666.6f64.to_bits())),
            ],
            verbose,
        })
    }

    /// Resolves `spectest.<name>`.
    pub fn get(&self, name: &str) -> Option<HExtern> {
        use ValType::*;
        let params: &[ValType] = match name {
            "table" => return Some(HExtern::Table(self.table.clone())),
            "memory" => return Some(HExtern::Memory(self.memory.clone())),
            "print" => &[],
            "print_i32" => &[I32],
            "print_i64" => &[I64],
            "print_f32" => &[F32],
            "print_f64" => &[F64],
            "print_i32_f32" => &[I32, F32],
            "print_f64_f64" => &[F64, F64],
            _ => {
                let g = self.globals.iter().find(|(n, _)| *n == name)?;
                return Some(HExtern::Global(g.1.clone()));
            }
        };
        let ty = FuncType {
            params: params.to_vec(),
            results: Vec::new(),
        };
        let verbose = self.verbose;
        let tys = ty.params.clone();
        let name = name.to_string();
        let func: HostFunc = Rc::new(move |_, args| {
            if verbose {
                let vals: Vec<String> = tys
                    .iter()
                    .zip(args.iter())
                    .map(|(t, v)| match t {
                        I32 => format!("{}", *v as u32 as i32),
                        I64 => format!("{}", *v as i64),
                        F32 => format!("{}", f32::from_bits(*v as u32)),
                        F64 => format!("{}", f64::from_bits(*v)),
                        _ => format!("{v:#x}"),
                    })
                    .collect();
                println!("  spectest.{name}({})", vals.join(", "));
            }
            Ok(())
        });
        Some(HExtern::Func(Func::Host { func, ty }))
    }
}
