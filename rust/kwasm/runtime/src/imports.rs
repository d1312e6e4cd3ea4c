// SPDX-License-Identifier: GPL-2.0

//! Things that can be imported and exported, and the import type checks.

use alloc::rc::Rc;

use kwasm_abi::{FuncType, GlobalDesc, Limits, MemoryDesc, TableDesc};

use crate::global::Global;
use crate::memory::Memory;
use crate::platform::Platform;
use crate::table::Table;
use crate::Instance;

/// A function that can satisfy a function import.
pub enum Func<P: Platform> {
    /// Function `index` of a wasm instance.
    Wasm {
        /// The instance whose function index space holds it.
        instance: Rc<Instance<P>>,
        /// Function index in that instance.
        index: u32,
    },
    /// A host function; calls reach it through the importing module's
    /// adapter and the platform's host-call entry.
    Host {
        /// The platform's representation.
        func: P::HostFunc,
        /// Its signature.
        ty: FuncType,
    },
}

/// An importable / exportable entity.
pub enum Extern<P: Platform> {
    /// A function.
    Func(Func<P>),
    /// A linear memory.
    Memory(Rc<Memory<P::Region>>),
    /// A table.
    Table(Rc<Table>),
    /// A global.
    Global(Rc<Global>),
}

impl<P: Platform> Clone for Func<P>
where
    P::HostFunc: Clone,
{
    fn clone(&self) -> Self {
        match self {
            Func::Wasm { instance, index } => Func::Wasm {
                instance: instance.clone(),
                index: *index,
            },
            Func::Host { func, ty } => Func::Host {
                func: func.clone(),
                ty: ty.clone(),
            },
        }
    }
}

impl<P: Platform> Clone for Extern<P>
where
    P::HostFunc: Clone,
{
    fn clone(&self) -> Self {
        match self {
            Extern::Func(f) => Extern::Func(f.clone()),
            Extern::Memory(m) => Extern::Memory(m.clone()),
            Extern::Table(t) => Extern::Table(t.clone()),
            Extern::Global(g) => Extern::Global(g.clone()),
        }
    }
}

/// Why an import could not be linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkError {
    /// Index in `CompiledModule::imports`.
    pub import: usize,
    /// What did not match.
    pub reason: &'static str,
}

/// Wasm import subtyping of limits: the actual object must be at least as
/// large as required and have a maximum no larger than the declared one.
fn limits_match(actual: Limits, want: Limits) -> bool {
    if actual.min < want.min {
        return false;
    }
    match (want.max, actual.max) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(w), Some(a)) => a <= w,
    }
}

pub(crate) fn check_table(desc: &TableDesc, t: &Table) -> Result<(), &'static str> {
    if desc.elem != t.ty() {
        return Err("table element type mismatch");
    }
    if !limits_match(t.limits(), desc.limits) {
        return Err("table limits mismatch");
    }
    Ok(())
}

pub(crate) fn check_memory<R: crate::MemoryRegion>(
    desc: &MemoryDesc,
    m: &Memory<R>,
) -> Result<(), &'static str> {
    if !limits_match(m.limits(), desc.limits) {
        return Err("memory limits mismatch");
    }
    Ok(())
}

pub(crate) fn check_global(desc: &GlobalDesc, g: &Global) -> Result<(), &'static str> {
    if desc.ty != g.ty() || desc.mutable != g.mutable() {
        return Err("global type mismatch");
    }
    Ok(())
}
