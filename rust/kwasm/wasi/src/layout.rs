// SPDX-License-Identifier: GPL-2.0

//! Byte layouts of the WASI structs that cross guest memory (little endian,
//! witx C layout), as encoders into fixed arrays and decoders from slices.

use crate::errno::Errno;

/// `fdstat`: size 24, align 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fdstat {
    /// `fs_filetype` (offset 0).
    pub filetype: u8,
    /// `fs_flags` (offset 2).
    pub flags: u16,
    /// `fs_rights_base` (offset 8).
    pub rights_base: u64,
    /// `fs_rights_inheriting` (offset 16).
    pub rights_inheriting: u64,
}

impl Fdstat {
    /// Size in guest memory.
    pub const SIZE: usize = 24;
    /// Alignment in guest memory.
    pub const ALIGN: u32 = 8;

    /// The guest bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0] = self.filetype;
        b[2..4].copy_from_slice(&self.flags.to_le_bytes());
        b[8..16].copy_from_slice(&self.rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&self.rights_inheriting.to_le_bytes());
        b
    }
}

/// `filestat`: size 64, align 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filestat {
    /// `dev` (offset 0).
    pub dev: u64,
    /// `ino` (offset 8).
    pub ino: u64,
    /// `filetype` (offset 16).
    pub filetype: u8,
    /// `nlink` (offset 24).
    pub nlink: u64,
    /// `size` (offset 32).
    pub size: u64,
    /// `atim` (offset 40).
    pub atim: u64,
    /// `mtim` (offset 48).
    pub mtim: u64,
    /// `ctim` (offset 56).
    pub ctim: u64,
}

impl Filestat {
    /// Size in guest memory.
    pub const SIZE: usize = 64;
    /// Alignment in guest memory.
    pub const ALIGN: u32 = 8;

    /// The guest bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }
}

/// `prestat` of a directory: tag 0 (offset 0), `pr_name_len` (offset 4);
/// size 8, align 4.
pub fn encode_prestat_dir(name_len: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = crate::types::PREOPENTYPE_DIR;
    b[4..8].copy_from_slice(&name_len.to_le_bytes());
    b
}

/// Alignment of `prestat`.
pub const PRESTAT_ALIGN: u32 = 4;

/// `dirent` header, followed in the buffer by `d_namlen` name bytes: size 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dirent {
    /// `d_next` (offset 0).
    pub next: u64,
    /// `d_ino` (offset 8).
    pub ino: u64,
    /// `d_namlen` (offset 16).
    pub namlen: u32,
    /// `d_type` (offset 20).
    pub d_type: u8,
}

impl Dirent {
    /// Size of the header.
    pub const SIZE: usize = 24;

    /// The guest bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..8].copy_from_slice(&self.next.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16..20].copy_from_slice(&self.namlen.to_le_bytes());
        b[20] = self.d_type;
        b
    }
}

/// What a `subscription` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// `subscription_clock`.
    Clock {
        /// `id` (a WASI clock id, undecoded).
        id: u32,
        /// `timeout` in nanoseconds.
        timeout: u64,
        /// `precision` (allowed to be ignored).
        precision: u64,
        /// `flags` (`subclockflags`).
        flags: u16,
    },
    /// `fd_read` on this fd.
    FdRead(u32),
    /// `fd_write` on this fd.
    FdWrite(u32),
}

/// `subscription`: size 48, align 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    /// `userdata` (offset 0), copied to the event.
    pub userdata: u64,
    /// The union at offset 8: tag byte, payload at 16.
    pub kind: SubscriptionKind,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut x = [0u8; 2];
    x.copy_from_slice(&b[at..at + 2]);
    u16::from_le_bytes(x)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

impl Subscription {
    /// Size in guest memory.
    pub const SIZE: usize = 48;
    /// Alignment in guest memory.
    pub const ALIGN: u32 = 8;

    /// Decodes one subscription; an unknown union tag is `INVAL`.
    pub fn decode(b: &[u8; Self::SIZE]) -> Result<Self, Errno> {
        let kind = match b[8] {
            0 => SubscriptionKind::Clock {
                id: u32_at(b, 16),
                timeout: u64_at(b, 24),
                precision: u64_at(b, 32),
                flags: u16_at(b, 40),
            },
            1 => SubscriptionKind::FdRead(u32_at(b, 16)),
            2 => SubscriptionKind::FdWrite(u32_at(b, 16)),
            _ => return Err(Errno::INVAL),
        };
        Ok(Subscription {
            userdata: u64_at(b, 0),
            kind,
        })
    }

    /// The guest bytes (used by tests and fake guests).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        match self.kind {
            SubscriptionKind::Clock {
                id,
                timeout,
                precision,
                flags,
            } => {
                b[8] = 0;
                b[16..20].copy_from_slice(&id.to_le_bytes());
                b[24..32].copy_from_slice(&timeout.to_le_bytes());
                b[32..40].copy_from_slice(&precision.to_le_bytes());
                b[40..42].copy_from_slice(&flags.to_le_bytes());
            }
            SubscriptionKind::FdRead(fd) => {
                b[8] = 1;
                b[16..20].copy_from_slice(&fd.to_le_bytes());
            }
            SubscriptionKind::FdWrite(fd) => {
                b[8] = 2;
                b[16..20].copy_from_slice(&fd.to_le_bytes());
            }
        }
        b
    }
}

/// `event`: size 32, align 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Event {
    /// `userdata` (offset 0).
    pub userdata: u64,
    /// `error` (offset 8).
    pub error: u16,
    /// `type` (offset 10, `eventtype`).
    pub ty: u8,
    /// `fd_readwrite.nbytes` (offset 16).
    pub nbytes: u64,
    /// `fd_readwrite.flags` (offset 24, `eventrwflags`).
    pub flags: u16,
}

impl Event {
    /// Size in guest memory.
    pub const SIZE: usize = 32;
    /// Alignment in guest memory.
    pub const ALIGN: u32 = 8;

    /// The guest bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&self.error.to_le_bytes());
        b[10] = self.ty;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    /// Decodes an event (used by tests).
    pub fn decode(b: &[u8; Self::SIZE]) -> Self {
        Event {
            userdata: u64_at(b, 0),
            error: u16_at(b, 8),
            ty: b[10],
            nbytes: u64_at(b, 16),
            flags: u16_at(b, 24),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdstat_fields_sit_at_witx_offsets() {
        let b = Fdstat {
            filetype: 4,
            flags: 0x0102,
            rights_base: 0x1111_2222_3333_4444,
            rights_inheriting: 0x5555_6666_7777_8888,
        }
        .encode();
        assert_eq!(b[0], 4);
        assert_eq!(b[1], 0);
        assert_eq!(b[2..4], [2, 1]);
        assert_eq!(b[8..16], 0x1111_2222_3333_4444u64.to_le_bytes());
        assert_eq!(b[16..24], 0x5555_6666_7777_8888u64.to_le_bytes());
    }

    #[test]
    fn filestat_fields_sit_at_witx_offsets() {
        let b = Filestat {
            dev: 1,
            ino: 2,
            filetype: 3,
            nlink: 4,
            size: 5,
            atim: 6,
            mtim: 7,
            ctim: 8,
        }
        .encode();
        for (off, v) in [
            (0, 1u64),
            (8, 2),
            (24, 4),
            (32, 5),
            (40, 6),
            (48, 7),
            (56, 8),
        ] {
            assert_eq!(b[off..off + 8], v.to_le_bytes(), "offset {off}");
        }
        assert_eq!(b[16], 3);
        assert!(b[17..24].iter().all(|&x| x == 0));
    }

    #[test]
    fn dirent_and_prestat_layouts() {
        let b = Dirent {
            next: 9,
            ino: 10,
            namlen: 11,
            d_type: 3,
        }
        .encode();
        assert_eq!(b[0..8], 9u64.to_le_bytes());
        assert_eq!(b[8..16], 10u64.to_le_bytes());
        assert_eq!(b[16..20], 11u32.to_le_bytes());
        assert_eq!(b[20], 3);
        assert_eq!(encode_prestat_dir(5), [0, 0, 0, 0, 5, 0, 0, 0]);
    }

    #[test]
    fn subscriptions_round_trip_and_reject_unknown_tags() {
        let subs = [
            Subscription {
                userdata: 0xdead_beef,
                kind: SubscriptionKind::Clock {
                    id: 1,
                    timeout: 1_000_000,
                    precision: 5,
                    flags: 1,
                },
            },
            Subscription {
                userdata: 7,
                kind: SubscriptionKind::FdRead(4),
            },
            Subscription {
                userdata: 8,
                kind: SubscriptionKind::FdWrite(5),
            },
        ];
        for s in subs {
            let b = s.encode();
            assert_eq!(Subscription::decode(&b), Ok(s));
        }
        let b = subs[0].encode();
        assert_eq!(b[16..20], 1u32.to_le_bytes());
        assert_eq!(b[24..32], 1_000_000u64.to_le_bytes());
        assert_eq!(b[40..42], 1u16.to_le_bytes());
        let mut b = subs[1].encode();
        assert_eq!(b[8], 1);
        b[8] = 3;
        assert_eq!(Subscription::decode(&b), Err(Errno::INVAL));
    }

    #[test]
    fn event_fields_sit_at_witx_offsets() {
        let e = Event {
            userdata: 0x0102_0304,
            error: 8,
            ty: 1,
            nbytes: 77,
            flags: 1,
        };
        let b = e.encode();
        assert_eq!(b[0..8], 0x0102_0304u64.to_le_bytes());
        assert_eq!(b[8..10], [8, 0]);
        assert_eq!(b[10], 1);
        assert_eq!(b[16..24], 77u64.to_le_bytes());
        assert_eq!(b[24..26], [1, 0]);
        assert_eq!(Event::decode(&b), e);
    }
}
