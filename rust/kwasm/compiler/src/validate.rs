// SPDX-License-Identifier: GPL-2.0

//! Validation and decoding: one pass of wasmparser over the whole module with
//! a fixed feature set, every limit checked, every function body validated.
//! The result is the module description the translator works from; nothing
//! after this pass sees invalid input.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kwasm_abi::{
    ConstExpr, DataSegment, ElemSegment, Export, ExportKind, FuncType, GlobalDesc, Import,
    ImportKind, Limits as AbiLimits, MemoryDesc, RefType, SegmentMode, TableDesc, ValType,
};
use wasmparser::{
    CompositeInnerType, DataKind, ElementItems, ElementKind, ExternalKind,
    FuncValidatorAllocations, FunctionBody, Operator, Parser, Payload, TypeRef, ValidPayload,
    Validator, WasmFeatures,
};

use crate::error::CompileError;
use crate::limits::{check, Limits};

/// The accepted feature set: WebAssembly 2.0 without SIMD.
pub(crate) fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::FLOATS
        // Needed by wasmparser for funcref/externref at all; GC itself stays off.
        | WasmFeatures::GC_TYPES
}

/// A validated, decoded module.
pub(crate) struct Module<'a> {
    pub types: Vec<FuncType>,
    pub func_types: Vec<u32>,
    pub num_imported_funcs: u32,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    pub memory: Option<MemoryDesc>,
    pub tables: Vec<TableDesc>,
    pub globals: Vec<GlobalDesc>,
    pub data: Vec<DataSegment>,
    pub elements: Vec<ElemSegment>,
    pub start: Option<u32>,
    /// Bodies of the defined functions, in order.
    pub bodies: Vec<FunctionBody<'a>>,
}

impl Module<'_> {
    /// Type of function `index`.
    pub fn func_type(&self, index: u32) -> Result<&FuncType, CompileError> {
        let ty = self
            .func_types
            .get(index as usize)
            .ok_or_else(|| crate::error::internal("function index"))?;
        self.type_at(*ty)
    }

    /// Type `index`.
    pub fn type_at(&self, index: u32) -> Result<&FuncType, CompileError> {
        self.types
            .get(index as usize)
            .ok_or_else(|| crate::error::internal("type index"))
    }
}

pub(crate) fn val_type(t: wasmparser::ValType) -> Result<ValType, CompileError> {
    Ok(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::Ref(r) => match ref_type(r)? {
            RefType::FuncRef => ValType::FuncRef,
            RefType::ExternRef => ValType::ExternRef,
        },
        wasmparser::ValType::V128 => {
            return Err(CompileError::Unsupported("v128 (SIMD)".to_string()))
        }
    })
}

pub(crate) fn ref_type(r: wasmparser::RefType) -> Result<RefType, CompileError> {
    if r == wasmparser::RefType::FUNCREF {
        Ok(RefType::FuncRef)
    } else if r == wasmparser::RefType::EXTERNREF {
        Ok(RefType::ExternRef)
    } else {
        Err(CompileError::Unsupported(format!("reference type {r:?}")))
    }
}

fn const_expr(e: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, CompileError> {
    let mut ops = e.get_operators_reader();
    let op = ops.read()?;
    let value = match op {
        Operator::I32Const { value } => ConstExpr::I32(value),
        Operator::I64Const { value } => ConstExpr::I64(value),
        Operator::F32Const { value } => ConstExpr::F32(value.bits()),
        Operator::F64Const { value } => ConstExpr::F64(value.bits()),
        Operator::RefNull { hty } => ConstExpr::RefNull(match hty {
            wasmparser::HeapType::Abstract {
                ty: wasmparser::AbstractHeapType::Extern,
                ..
            } => RefType::ExternRef,
            _ => RefType::FuncRef,
        }),
        Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        other => {
            return Err(CompileError::Unsupported(format!(
                "constant expression {other:?}"
            )))
        }
    };
    // Exactly one instruction followed by `end`: extended-const is not enabled,
    // so the validator already guarantees it; double-check cheaply.
    match ops.read()? {
        Operator::End => Ok(value),
        _ => Err(CompileError::Unsupported(
            "multi-instruction constant expression".to_string(),
        )),
    }
}

fn table_desc(
    t: &wasmparser::TableType,
    imported: bool,
    limits: &Limits,
) -> Result<TableDesc, CompileError> {
    // Only the initial size costs memory at instantiation; a large declared
    // maximum is harmless because the runtime caps growth.
    check("table initial elements", t.initial, limits.max_table_elems)?;
    Ok(TableDesc {
        elem: ref_type(t.element_type)?,
        limits: AbiLimits {
            min: t.initial,
            max: t.maximum,
        },
        imported,
    })
}

fn memory_desc(
    m: &wasmparser::MemoryType,
    imported: bool,
    limits: &Limits,
) -> Result<MemoryDesc, CompileError> {
    if m.memory64 || m.shared || m.page_size_log2.is_some() {
        return Err(CompileError::Unsupported(
            "memory64/shared/custom-page memory".to_string(),
        ));
    }
    check("memory initial pages", m.initial, limits.max_memory_pages)?;
    Ok(MemoryDesc {
        limits: AbiLimits {
            min: m.initial,
            max: m.maximum,
        },
        imported,
    })
}

/// Counts toward a limit with overflow-safe arithmetic.
fn bump(counter: &mut u64, by: u64, what: &'static str, max: u64) -> Result<(), CompileError> {
    *counter = counter.saturating_add(by);
    check(what, *counter, max)
}

/// Parses and validates `wasm`, checking every limit.
pub(crate) fn parse_and_validate<'a>(
    wasm: &'a [u8],
    limits: &Limits,
) -> Result<Module<'a>, CompileError> {
    let mut validator = Validator::new_with_features(features());
    let mut m = Module {
        types: Vec::new(),
        func_types: Vec::new(),
        num_imported_funcs: 0,
        imports: Vec::new(),
        exports: Vec::new(),
        memory: None,
        tables: Vec::new(),
        globals: Vec::new(),
        data: Vec::new(),
        elements: Vec::new(),
        start: None,
        bodies: Vec::new(),
    };
    let mut allocs = FuncValidatorAllocations::default();
    let mut elem_items: u64 = 0;
    let mut seen_end = false;
    // The reader must decode with the same features as the validator: with
    // its default (all features) it would, e.g., read memory limits as u64
    // and accept overlong u32 LEB128 encodings.
    let mut parser = Parser::new(0);
    parser.set_features(features());
    for payload in parser.parse_all(wasm) {
        let payload = payload?;
        // Section counts are checked before the validator allocates anything
        // proportional to them.
        match &payload {
            Payload::TypeSection(r) => check("types", r.count().into(), limits.max_types)?,
            Payload::ImportSection(r) => check("imports", r.count().into(), limits.max_imports)?,
            Payload::FunctionSection(r) => check("functions", r.count().into(), limits.max_funcs)?,
            Payload::GlobalSection(r) => check("globals", r.count().into(), limits.max_globals)?,
            Payload::ExportSection(r) => check("exports", r.count().into(), limits.max_exports)?,
            Payload::TableSection(r) => check("tables", r.count().into(), limits.max_tables)?,
            Payload::ElementSection(r) => check(
                "element segments",
                r.count().into(),
                limits.max_elem_segments,
            )?,
            Payload::DataSection(r) => {
                check("data segments", r.count().into(), limits.max_data_segments)?
            }
            Payload::CodeSectionStart { count, .. } => {
                check("functions", (*count).into(), limits.max_funcs)?
            }
            _ => {}
        }
        let valid = validator.payload(&payload)?;
        match payload {
            Payload::TypeSection(r) => {
                for group in r {
                    for sub in group?.into_types() {
                        let CompositeInnerType::Func(f) = &sub.composite_type.inner else {
                            return Err(CompileError::Unsupported("non-function type".to_string()));
                        };
                        check(
                            "type params",
                            f.params().len() as u64,
                            limits.max_params_results,
                        )?;
                        check(
                            "type results",
                            f.results().len() as u64,
                            limits.max_params_results,
                        )?;
                        let params = f
                            .params()
                            .iter()
                            .map(|t| val_type(*t))
                            .collect::<Result<_, _>>()?;
                        let results = f
                            .results()
                            .iter()
                            .map(|t| val_type(*t))
                            .collect::<Result<_, _>>()?;
                        m.types.push(FuncType { params, results });
                        check("types", m.types.len() as u64, limits.max_types)?;
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp?;
                    let kind = match imp.ty {
                        TypeRef::Func(ty) => {
                            m.func_types.push(ty);
                            m.num_imported_funcs = m.num_imported_funcs.saturating_add(1);
                            ImportKind::Func(ty)
                        }
                        TypeRef::Table(t) => {
                            m.tables.push(table_desc(&t, true, limits)?);
                            ImportKind::Table
                        }
                        TypeRef::Memory(mt) => {
                            m.memory = Some(memory_desc(&mt, true, limits)?);
                            ImportKind::Memory
                        }
                        TypeRef::Global(g) => {
                            m.globals.push(GlobalDesc {
                                ty: val_type(g.content_type)?,
                                mutable: g.mutable,
                                init: None,
                                inline: false,
                            });
                            ImportKind::Global
                        }
                        other => {
                            return Err(CompileError::Unsupported(format!("import {other:?}")))
                        }
                    };
                    m.imports.push(Import {
                        module: imp.module.to_string(),
                        name: imp.name.to_string(),
                        kind,
                    });
                    check("imports", m.imports.len() as u64, limits.max_imports)?;
                    check("functions", m.func_types.len() as u64, limits.max_funcs)?;
                    check("globals", m.globals.len() as u64, limits.max_globals)?;
                    check("tables", m.tables.len() as u64, limits.max_tables)?;
                }
            }
            Payload::FunctionSection(r) => {
                for ty in r {
                    m.func_types.push(ty?);
                    check("functions", m.func_types.len() as u64, limits.max_funcs)?;
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t?;
                    if !matches!(t.init, wasmparser::TableInit::RefNull) {
                        return Err(CompileError::Unsupported(
                            "table initialiser expression".to_string(),
                        ));
                    }
                    m.tables.push(table_desc(&t.ty, false, limits)?);
                    check("tables", m.tables.len() as u64, limits.max_tables)?;
                }
            }
            Payload::MemorySection(r) => {
                for mt in r {
                    m.memory = Some(memory_desc(&mt?, false, limits)?);
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g?;
                    m.globals.push(GlobalDesc {
                        ty: val_type(g.ty.content_type)?,
                        mutable: g.ty.mutable,
                        init: Some(const_expr(&g.init_expr)?),
                        // Until an export says otherwise.
                        inline: true,
                    });
                    check("globals", m.globals.len() as u64, limits.max_globals)?;
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    let kind = match e.kind {
                        ExternalKind::Func => ExportKind::Func(e.index),
                        ExternalKind::Table => ExportKind::Table(e.index),
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => {
                            if let Some(g) = m.globals.get_mut(e.index as usize) {
                                g.inline = false;
                            }
                            ExportKind::Global(e.index)
                        }
                        other => {
                            return Err(CompileError::Unsupported(format!("export kind {other:?}")))
                        }
                    };
                    m.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e?;
                    let mode = match &e.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: const_expr(offset_expr)?,
                        },
                    };
                    let mut items = Vec::new();
                    let ty = match e.items {
                        ElementItems::Functions(r) => {
                            bump(
                                &mut elem_items,
                                r.count().into(),
                                "element items",
                                limits.max_elem_items,
                            )?;
                            for f in r {
                                items.push(ConstExpr::RefFunc(f?));
                            }
                            RefType::FuncRef
                        }
                        ElementItems::Expressions(t, r) => {
                            bump(
                                &mut elem_items,
                                r.count().into(),
                                "element items",
                                limits.max_elem_items,
                            )?;
                            for x in r {
                                items.push(const_expr(&x?)?);
                            }
                            ref_type(t)?
                        }
                    };
                    m.elements.push(ElemSegment { mode, ty, items });
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d?;
                    let mode = match &d.kind {
                        DataKind::Passive => SegmentMode::Passive,
                        DataKind::Active { offset_expr, .. } => SegmentMode::Active {
                            table: 0,
                            offset: const_expr(offset_expr)?,
                        },
                    };
                    m.data.push(DataSegment {
                        mode,
                        bytes: d.data.to_vec(),
                    });
                }
            }
            Payload::CodeSectionEntry(body) => {
                let size = body.range().end.saturating_sub(body.range().start);
                check("function body bytes", size, limits.max_body_bytes)?;
                let ValidPayload::Func(func, body) = valid else {
                    return Err(crate::error::internal("code entry without validator"));
                };
                let index = func.index;
                // Locals are counted before the validator reserves space for them.
                let mut locals = m
                    .func_type(index)
                    .map(|t| t.params.len() as u64)
                    .unwrap_or(0);
                for l in body.get_locals_reader()? {
                    let (n, _) = l?;
                    bump(&mut locals, n.into(), "function locals", limits.max_locals)?;
                }
                let mut v = func.into_validator(core::mem::take(&mut allocs));
                v.validate(&body)?;
                allocs = v.into_allocations();
                check_nesting(&body, limits)?;
                m.bodies.push(body);
            }
            Payload::End(_) => seen_end = true,
            Payload::CustomSection(_)
            | Payload::Version { .. }
            | Payload::DataCountSection { .. }
            | Payload::CodeSectionStart { .. } => {}
            other => {
                return Err(CompileError::Unsupported(format!(
                    "section {:?}",
                    section_name(&other)
                )))
            }
        }
    }
    if !seen_end {
        return Err(CompileError::Invalid(
            "unexpected end of module".to_string(),
        ));
    }
    Ok(m)
}

fn section_name(p: &Payload<'_>) -> String {
    match p {
        Payload::TagSection(_) => "tag".to_string(),
        _ => "unknown".to_string(),
    }
}

/// Control nesting and `br_table` sizes, bounded before translation (the
/// translator keeps one frame per level).
fn check_nesting(body: &FunctionBody<'_>, limits: &Limits) -> Result<(), CompileError> {
    let mut ops = body.get_operators_reader()?;
    let mut depth: u64 = 0;
    let mut max_depth: u64 = 0;
    while !ops.eof() {
        match ops.read()? {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                depth = depth.saturating_add(1);
                max_depth = max_depth.max(depth);
            }
            Operator::End => depth = depth.saturating_sub(1),
            Operator::BrTable { targets } => check(
                "br_table targets",
                targets.len().into(),
                limits.max_br_table_targets,
            )?,
            _ => {}
        }
    }
    check("control nesting", max_depth, limits.max_nesting)
}
