// SPDX-License-Identifier: GPL-2.0

//! Compile errors: feature rejection, configuration, limits, invalid input.

use kwasm_compiler::{compile, CompileError, Config, IsaFeatures, Limits};

fn cfg() -> Config {
    Config {
        features: IsaFeatures::baseline(),
        verify: true,
        ..Config::default()
    }
}

fn cfg_limits(limits: Limits) -> Config {
    Config { limits, ..cfg() }
}

fn err(wat: &str, config: &Config) -> CompileError {
    let wasm = wat::parse_str(wat).expect("wat");
    match compile(&wasm, config) {
        Ok(_) => panic!("expected an error for {wat}"),
        Err(e) => e,
    }
}

fn ok(wat: &str) {
    let wasm = wat::parse_str(wat).expect("wat");
    if let Err(e) = compile(&wasm, &cfg()) {
        panic!("{wat}: {e}");
    }
}

fn invalid_containing(wat: &str, needle: &str) {
    match err(wat, &cfg()) {
        CompileError::Invalid(msg) => assert!(msg.contains(needle), "{msg}"),
        other => panic!("expected Invalid({needle}), got {other:?}"),
    }
}

#[test]
fn empty_and_minimal_modules() {
    ok("(module)");
    ok("(module (func))");
    ok("(module (memory 0) (func (drop (memory.size))))");
    ok("(module (table 0 funcref) (func (drop (table.size 0))))");
}

#[test]
fn sse41_is_required() {
    let wasm = wat::parse_str("(module)").unwrap();
    match compile(&wasm, &Config::default()) {
        Err(CompileError::Unsupported(msg)) => assert!(msg.contains("SSE4.1")),
        other => panic!("{other:?}"),
    }
    let all = Config {
        features: IsaFeatures::all(),
        ..Config::default()
    };
    assert!(compile(&wasm, &all).is_ok());
}

#[test]
fn post_2_0_features_are_rejected() {
    invalid_containing(
        "(module (func (result v128) v128.const i32x4 0 0 0 0))",
        "SIMD",
    );
    invalid_containing("(module (memory 1 1 shared))", "threads");
    invalid_containing(
        "(module (memory 1 1) (func (param i32) (result i32) local.get 0 i32.atomic.load))",
        "threads",
    );
    invalid_containing("(module (func return_call 0))", "tail");
    invalid_containing("(module (memory i64 1))", "memory64");
    invalid_containing("(module (memory 1) (memory 1))", "multiple memories");
    invalid_containing("(module (tag))", "exceptions");
    invalid_containing(
        "(module (global i32 (i32.add (i32.const 1) (i32.const 2))))",
        "constant expression",
    );
    invalid_containing("(module (type (struct)))", "gc");
}

#[test]
fn invalid_modules() {
    for bytes in [
        &b""[..],
        b"\0asm",
        b"\0asm\x02\0\0\0",
        b"\0asm\x01\0\0\0\x01",
        b"not wasm at all",
    ] {
        match compile(bytes, &cfg()) {
            Err(CompileError::Invalid(_)) => {}
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
    invalid_containing("(module (func (result i32) i64.const 0))", "type mismatch");
    // Overlong u32 LEB128 in memory limits (spec binary-leb128.wast).
    for bytes in [
        &b"\0asm\x01\0\0\0\x05\x08\x01\x00\x82\x80\x80\x80\x80\x00"[..],
        b"\0asm\x01\0\0\0\x05\x0a\x01\x01\x82\x00\x82\x80\x80\x80\x80\x00",
    ] {
        match compile(bytes, &cfg()) {
            Err(CompileError::Invalid(msg)) => assert!(msg.contains("too long"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }
    invalid_containing("(module (func br 1))", "unknown label");
}

fn limit_name(e: CompileError) -> &'static str {
    match e {
        CompileError::Limit(what, value, max) => {
            assert!(value > max);
            what
        }
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn limits_are_enforced() {
    let l = Limits::default;
    let e = |wat: &str, limits: Limits| limit_name(err(wat, &cfg_limits(limits)));
    assert_eq!(
        e(
            "(module (func) (func) (func))",
            Limits {
                max_funcs: 2,
                ..l()
            }
        ),
        "functions"
    );
    assert_eq!(
        e(
            r#"(module (import "a" "b" (func)) (import "a" "c" (func)) (func))"#,
            Limits {
                max_funcs: 2,
                ..l()
            }
        ),
        "functions"
    );
    assert_eq!(
        e(
            "(module (func (local i32 i64) nop nop))",
            Limits {
                max_body_bytes: 4,
                ..l()
            }
        ),
        "function body bytes"
    );
    assert_eq!(
        e(
            "(module (func (param i32) (local i32 i32)))",
            Limits {
                max_locals: 2,
                ..l()
            }
        ),
        "function locals"
    );
    assert_eq!(
        e(
            "(module (memory 3))",
            Limits {
                max_memory_pages: 2,
                ..l()
            }
        ),
        "memory initial pages"
    );
    assert_eq!(
        e(
            "(module (table 11 funcref))",
            Limits {
                max_table_elems: 10,
                ..l()
            }
        ),
        "table initial elements"
    );
    assert_eq!(
        e(
            "(module (func block block block end end end))",
            Limits {
                max_nesting: 2,
                ..l()
            }
        ),
        "control nesting"
    );
    assert_eq!(
        e(
            "(module (type (func)) (type (func)))",
            Limits {
                max_types: 1,
                ..l()
            }
        ),
        "types"
    );
    assert_eq!(
        e(
            "(module (func (param i32 i32 i32)))",
            Limits {
                max_params_results: 2,
                ..l()
            }
        ),
        "type params"
    );
    assert_eq!(
        e(
            "(module (global i32 (i32.const 0)) (global i32 (i32.const 0)))",
            Limits {
                max_globals: 1,
                ..l()
            }
        ),
        "globals"
    );
    assert_eq!(
        e(
            r#"(module (memory 1) (data (i32.const 0) "a") (data (i32.const 0) "b"))"#,
            Limits {
                max_data_segments: 1,
                ..l()
            }
        ),
        "data segments"
    );
    assert_eq!(
        e(
            "(module (table 1 funcref) (func) (elem (i32.const 0) 0) (elem (i32.const 0) 0))",
            Limits {
                max_elem_segments: 1,
                ..l()
            }
        ),
        "element segments"
    );
    assert_eq!(
        e(
            "(module (table 3 funcref) (func) (elem (i32.const 0) 0 0 0))",
            Limits {
                max_elem_items: 2,
                ..l()
            }
        ),
        "element items"
    );
    assert_eq!(
        e(
            r#"(module (import "a" "b" (global i32)) (import "a" "c" (global i32)))"#,
            Limits {
                max_imports: 1,
                ..l()
            }
        ),
        "imports"
    );
    assert_eq!(
        e(
            r#"(module (func (export "a")) (func (export "b")))"#,
            Limits {
                max_exports: 1,
                ..l()
            }
        ),
        "exports"
    );
    assert_eq!(
        e(
            "(module (func (param i32) block block local.get 0 br_table 0 1 0 1 end end))",
            Limits {
                max_br_table_targets: 2,
                ..l()
            }
        ),
        "br_table targets"
    );
    assert_eq!(
        e(
            "(module (func))",
            Limits {
                max_module_bytes: 8,
                ..l()
            }
        ),
        "module bytes"
    );
}

#[test]
fn error_display() {
    let s = CompileError::Limit("functions", 3, 2).to_string();
    assert!(
        s.contains("functions") && s.contains('3') && s.contains('2'),
        "{s}"
    );
    let s = CompileError::Invalid("bad".into()).to_string();
    assert!(s.contains("bad"));
}

#[test]
fn module_description() {
    let wasm = wat::parse_str(
        r#"(module
        (import "env" "f" (func (param i32) (result i64)))
        (import "env" "g" (global (mut i32)))
        (import "env" "t" (table 1 funcref))
        (import "env" "m" (memory 1 2))
        (global i64 (i64.const 7))
        (global funcref (ref.func 1))
        (table 2 externref)
        (func (export "run") (result i32) i32.const 1)
        (func $start)
        (elem (table 0) (i32.const 0) func 1)
        (elem declare func 0)
        (elem funcref (ref.null func))
        (data (i32.const 8) "hi")
        (data "passive")
        (export "mem" (memory 0))
        (export "g" (global 0))
        (start $start)
    )"#,
    )
    .unwrap();
    let m = compile(&wasm, &cfg()).unwrap();
    use kwasm_abi::*;
    assert_eq!(m.num_imported_funcs, 1);
    assert_eq!(m.func_types.len(), 3);
    assert_eq!(m.funcs.len(), 2);
    assert_eq!(m.import_adapters.len(), 1);
    assert_eq!(m.trampolines.len(), m.types.len());
    assert_eq!(m.imports.len(), 4);
    assert_eq!(m.imports[0].kind, ImportKind::Func(m.func_types[0]));
    assert_eq!(m.imports[1].kind, ImportKind::Global);
    assert_eq!(m.imports[3].kind, ImportKind::Memory);
    assert_eq!(
        m.memory,
        Some(MemoryDesc {
            limits: kwasm_abi::Limits {
                min: 1,
                max: Some(2)
            },
            imported: true
        })
    );
    assert_eq!(m.tables.len(), 2);
    assert!(m.tables[0].imported && !m.tables[1].imported);
    assert_eq!(m.tables[1].elem, RefType::ExternRef);
    assert_eq!(m.globals.len(), 3);
    assert_eq!(m.globals[0].init, None);
    assert!(m.globals[0].mutable);
    assert_eq!(m.globals[1].init, Some(ConstExpr::I64(7)));
    assert_eq!(m.globals[2].init, Some(ConstExpr::RefFunc(1)));
    assert_eq!(m.exports.len(), 3);
    assert_eq!(m.export("run"), Some(ExportKind::Func(1)));
    assert_eq!(m.export("mem"), Some(ExportKind::Memory));
    assert_eq!(m.elements.len(), 3);
    assert_eq!(
        m.elements[0].mode,
        SegmentMode::Active {
            table: 0,
            offset: ConstExpr::I32(0)
        }
    );
    assert_eq!(m.elements[1].mode, SegmentMode::Declared);
    assert_eq!(m.elements[2].mode, SegmentMode::Passive);
    assert_eq!(
        m.elements[2].items,
        vec![ConstExpr::RefNull(RefType::FuncRef)]
    );
    assert_eq!(m.data.len(), 2);
    assert_eq!(m.data[0].bytes, b"hi");
    assert_eq!(m.data[1].mode, SegmentMode::Passive);
    assert_eq!(m.start, Some(2));
    let (off, len) = m.funcs[0];
    assert_eq!(m.func_at(off + 1), Some((1, 1)));
    assert!(len > 0);
}
