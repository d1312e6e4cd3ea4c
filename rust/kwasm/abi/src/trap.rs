// SPDX-License-Identifier: GPL-2.0

//! Trap kinds: why wasm execution stopped abnormally.

/// A wasm trap. The discriminant is what trap sites and unwinds carry.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trap {
    /// `unreachable` executed.
    Unreachable = 1,
    /// Linear memory access out of bounds.
    MemoryOutOfBounds = 2,
    /// Table access (get/set/call_indirect/bulk op) out of bounds.
    TableOutOfBounds = 3,
    /// `call_indirect` on a null element.
    IndirectCallNull = 4,
    /// `call_indirect` signature mismatch.
    IndirectCallBadSignature = 5,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 6,
    /// Integer overflow (`INT_MIN / -1`, float-to-int out of range).
    IntegerOverflow = 7,
    /// Float-to-int conversion of NaN.
    BadConversionToInteger = 8,
    /// Call stack exhausted.
    StackOverflow = 9,
    /// A host function failed in a way that ends the program.
    HostError = 10,
    /// Execution was interrupted (fatal signal, timeout).
    Interrupted = 11,
}

impl Trap {
    /// The signal that ends a program that trapped, the number Linux gives
    /// the hardware fault a native program would take instead: `SIGSEGV`
    /// for memory, table and null-call faults, `SIGFPE` for arithmetic,
    /// `SIGSYS` for a failed host call, `SIGILL` for the rest (`ud2`). The
    /// kernel and the host runner (kwasm-run) end programs alike.
    pub const fn signal(self) -> i32 {
        use Trap::*;
        match self {
            MemoryOutOfBounds | TableOutOfBounds | IndirectCallNull => 11,
            IntegerDivideByZero | IntegerOverflow | BadConversionToInteger => 8,
            HostError => 31,
            _ => 4,
        }
    }

    /// Decodes a trap from its discriminant.
    pub fn from_u8(v: u8) -> Option<Self> {
        use Trap::*;
        Some(match v {
            1 => Unreachable,
            2 => MemoryOutOfBounds,
            3 => TableOutOfBounds,
            4 => IndirectCallNull,
            5 => IndirectCallBadSignature,
            6 => IntegerDivideByZero,
            7 => IntegerOverflow,
            8 => BadConversionToInteger,
            9 => StackOverflow,
            10 => HostError,
            11 => Interrupted,
            _ => return None,
        })
    }

    /// Short name used in messages (kernel log, test output).
    pub fn name(self) -> &'static str {
        use Trap::*;
        match self {
            Unreachable => "unreachable",
            MemoryOutOfBounds => "out of bounds memory access",
            TableOutOfBounds => "out of bounds table access",
            IndirectCallNull => "uninitialized element",
            IndirectCallBadSignature => "indirect call type mismatch",
            IntegerDivideByZero => "integer divide by zero",
            IntegerOverflow => "integer overflow",
            BadConversionToInteger => "invalid conversion to integer",
            StackOverflow => "call stack exhausted",
            HostError => "host error",
            Interrupted => "interrupted",
        }
    }
}
