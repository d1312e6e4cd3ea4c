// SPDX-License-Identifier: GPL-2.0

//! Canonical signature ids.
//!
//! `call_indirect` and import linking compare signatures by a `u32` id. Ids
//! come from one registry shared by every instance that may call into each
//! other, so structurally equal function types get the same id whatever
//! module declared them.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use kwasm_abi::{FuncType, ValType};

/// Interns function types into canonical ids (starting at 1, so a zeroed
/// `type_id` never matches a real signature).
#[derive(Debug, Default)]
pub struct TypeRegistry {
    ids: BTreeMap<Vec<u8>, u32>,
    types: Vec<FuncType>,
}

fn val_code(v: ValType) -> u8 {
    match v {
        ValType::I32 => 0,
        ValType::I64 => 1,
        ValType::F32 => 2,
        ValType::F64 => 3,
        ValType::FuncRef => 4,
        ValType::ExternRef => 5,
    }
}

/// A byte key that is equal exactly when the types are structurally equal.
fn key(ty: &FuncType) -> Vec<u8> {
    let mut k = Vec::with_capacity(ty.params.len() + ty.results.len() + 1);
    k.extend(ty.params.iter().map(|&v| val_code(v)));
    // 0xff separates params from results: it is not a value-type code.
    k.push(0xff);
    k.extend(ty.results.iter().map(|&v| val_code(v)));
    k
}

impl TypeRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes room for `n` more types, so that interning that many new ones
    /// grows no list (a kernel caller must not panic on a failed growth;
    /// the map's nodes and keys are small blocks, which do not fail).
    pub fn reserve(&mut self, n: usize) -> Result<(), alloc::collections::TryReserveError> {
        self.types.try_reserve(n)
    }

    /// The canonical id of `ty`, registering it if new.
    pub fn intern(&mut self, ty: &FuncType) -> u32 {
        let k = key(ty);
        if let Some(&id) = self.ids.get(&k) {
            return id;
        }
        // Ids are dense from 1; u32 overflow would need 4 billion distinct
        // types, far beyond any module the compiler accepts.
        let id = u32::try_from(self.types.len())
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1);
        self.types.push(ty.clone());
        self.ids.insert(k, id);
        id
    }

    /// The id of `ty` if it was registered.
    pub fn lookup(&self, ty: &FuncType) -> Option<u32> {
        self.ids.get(&key(ty)).copied()
    }

    /// The type with canonical id `id`.
    pub fn get(&self, id: u32) -> Option<&FuncType> {
        self.types.get(usize::try_from(id.checked_sub(1)?).ok()?)
    }
}
