// SPDX-License-Identifier: GPL-2.0

//! WASI errno values and the one mapping from Linux errno values to them.

/// A WASI `errno` (wasi_snapshot_preview1), the value a WASI function
/// returns in its i32 result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub u16);

macro_rules! errnos {
    ($($name:ident = $v:expr, $doc:expr;)*) => {
        impl Errno {
            $(#[doc = $doc] pub const $name: Errno = Errno($v);)*
        }
        /// Every WASI errno with its witx name, for diagnostics and tests.
        pub const ALL: &[(Errno, &str)] = &[$((Errno::$name, stringify!($name)),)*];
    };
}

errnos! {
    SUCCESS = 0, "No error.";
    TOOBIG = 1, "Argument list too long (`2big`).";
    ACCES = 2, "Permission denied.";
    ADDRINUSE = 3, "Address in use.";
    ADDRNOTAVAIL = 4, "Address not available.";
    AFNOSUPPORT = 5, "Address family not supported.";
    AGAIN = 6, "Resource unavailable, or operation would block.";
    ALREADY = 7, "Connection already in progress.";
    BADF = 8, "Bad file descriptor.";
    BADMSG = 9, "Bad message.";
    BUSY = 10, "Device or resource busy.";
    CANCELED = 11, "Operation canceled.";
    CHILD = 12, "No child processes.";
    CONNABORTED = 13, "Connection aborted.";
    CONNREFUSED = 14, "Connection refused.";
    CONNRESET = 15, "Connection reset.";
    DEADLK = 16, "Resource deadlock would occur.";
    DESTADDRREQ = 17, "Destination address required.";
    DOM = 18, "Mathematics argument out of domain of function.";
    DQUOT = 19, "Reserved.";
    EXIST = 20, "File exists.";
    FAULT = 21, "Bad address.";
    FBIG = 22, "File too large.";
    HOSTUNREACH = 23, "Host is unreachable.";
    IDRM = 24, "Identifier removed.";
    ILSEQ = 25, "Illegal byte sequence.";
    INPROGRESS = 26, "Operation in progress.";
    INTR = 27, "Interrupted function.";
    INVAL = 28, "Invalid argument.";
    IO = 29, "I/O error.";
    ISCONN = 30, "Socket is connected.";
    ISDIR = 31, "Is a directory.";
    LOOP = 32, "Too many levels of symbolic links.";
    MFILE = 33, "File descriptor value too large.";
    MLINK = 34, "Too many links.";
    MSGSIZE = 35, "Message too large.";
    MULTIHOP = 36, "Reserved.";
    NAMETOOLONG = 37, "Filename too long.";
    NETDOWN = 38, "Network is down.";
    NETRESET = 39, "Connection aborted by network.";
    NETUNREACH = 40, "Network unreachable.";
    NFILE = 41, "Too many files open in system.";
    NOBUFS = 42, "No buffer space available.";
    NODEV = 43, "No such device.";
    NOENT = 44, "No such file or directory.";
    NOEXEC = 45, "Executable file format error.";
    NOLCK = 46, "No locks available.";
    NOLINK = 47, "Reserved.";
    NOMEM = 48, "Not enough space.";
    NOMSG = 49, "No message of the desired type.";
    NOPROTOOPT = 50, "Protocol not available.";
    NOSPC = 51, "No space left on device.";
    NOSYS = 52, "Function not supported.";
    NOTCONN = 53, "The socket is not connected.";
    NOTDIR = 54, "Not a directory or a symbolic link to a directory.";
    NOTEMPTY = 55, "Directory not empty.";
    NOTRECOVERABLE = 56, "State not recoverable.";
    NOTSOCK = 57, "Not a socket.";
    NOTSUP = 58, "Not supported, or operation not supported on socket.";
    NOTTY = 59, "Inappropriate I/O control operation.";
    NXIO = 60, "No such device or address.";
    OVERFLOW = 61, "Value too large to be stored in data type.";
    OWNERDEAD = 62, "Previous owner died.";
    PERM = 63, "Operation not permitted.";
    PIPE = 64, "Broken pipe.";
    PROTO = 65, "Protocol error.";
    PROTONOSUPPORT = 66, "Protocol not supported.";
    PROTOTYPE = 67, "Protocol wrong type for socket.";
    RANGE = 68, "Result too large.";
    ROFS = 69, "Read-only file system.";
    SPIPE = 70, "Invalid seek.";
    SRCH = 71, "No such process.";
    STALE = 72, "Reserved.";
    TIMEDOUT = 73, "Connection timed out.";
    TXTBSY = 74, "Text file busy.";
    XDEV = 75, "Cross-device link.";
    NOTCAPABLE = 76, "Extension: Capabilities insufficient.";
}

/// Linux errno values (positive), as the [`crate::WasiOs`] methods return
/// them. Only the ones this crate produces or maps specially are named.
pub mod linux {
    #![allow(missing_docs)]
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EINTR: i32 = 4;
    pub const EIO: i32 = 5;
    pub const EBADF: i32 = 9;
    pub const EAGAIN: i32 = 11;
    pub const ENOMEM: i32 = 12;
    pub const EACCES: i32 = 13;
    pub const EFAULT: i32 = 14;
    pub const EXDEV: i32 = 18;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const ESPIPE: i32 = 29;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOSYS: i32 = 38;
    pub const ELOOP: i32 = 40;
    pub const EOVERFLOW: i32 = 75;
    pub const ENOTSOCK: i32 = 88;
    pub const EOPNOTSUPP: i32 = 95;
    /// Kernel-internal restart codes: a signal interrupted the call.
    pub const ERESTARTSYS: i32 = 512;
    pub const ERESTART_RESTARTBLOCK: i32 = 516;
}

/// Maps a Linux errno (either sign; kernel code returns negative values) to
/// the WASI errno. Unknown values become `IO`: the call failed, and nothing
/// more precise can be said.
pub fn from_linux(e: i32) -> Errno {
    let e = e.unsigned_abs();
    Errno(match e {
        0 => 0,
        1 => 63,               // EPERM
        2 => 44,               // ENOENT
        3 => 71,               // ESRCH
        4 => 27,               // EINTR
        5 => 29,               // EIO
        6 => 60,               // ENXIO
        7 => 1,                // E2BIG
        8 => 45,               // ENOEXEC
        9 => 8,                // EBADF
        10 => 12,              // ECHILD
        11 => 6,               // EAGAIN / EWOULDBLOCK
        12 => 48,              // ENOMEM
        13 => 2,               // EACCES
        14 => 21,              // EFAULT
        16 => 10,              // EBUSY
        17 => 20,              // EEXIST
        18 => 75,              // EXDEV
        19 => 43,              // ENODEV
        20 => 54,              // ENOTDIR
        21 => 31,              // EISDIR
        22 => 28,              // EINVAL
        23 => 41,              // ENFILE
        24 => 33,              // EMFILE
        25 => 59,              // ENOTTY
        26 => 74,              // ETXTBSY
        27 => 22,              // EFBIG
        28 => 51,              // ENOSPC
        29 => 70,              // ESPIPE
        30 => 69,              // EROFS
        31 => 34,              // EMLINK
        32 => 64,              // EPIPE
        33 => 18,              // EDOM
        34 => 68,              // ERANGE
        35 => 16,              // EDEADLK
        36 => 37,              // ENAMETOOLONG
        37 => 46,              // ENOLCK
        38 => 52,              // ENOSYS
        39 => 55,              // ENOTEMPTY
        40 => 32,              // ELOOP
        42 => 49,              // ENOMSG
        43 => 24,              // EIDRM
        62 => 73,              // ETIME
        67 => 47,              // ENOLINK
        71 => 65,              // EPROTO
        72 => 36,              // EMULTIHOP
        74 => 9,               // EBADMSG
        75 => 61,              // EOVERFLOW
        84 => 25,              // EILSEQ
        88 => 57,              // ENOTSOCK
        89 => 17,              // EDESTADDRREQ
        90 => 35,              // EMSGSIZE
        91 => 67,              // EPROTOTYPE
        92 => 50,              // ENOPROTOOPT
        93 => 66,              // EPROTONOSUPPORT
        94 | 95 => 58,         // ESOCKTNOSUPPORT, EOPNOTSUPP
        96 | 97 => 5,          // EPFNOSUPPORT, EAFNOSUPPORT
        98 => 3,               // EADDRINUSE
        99 => 4,               // EADDRNOTAVAIL
        100 => 38,             // ENETDOWN
        101 => 40,             // ENETUNREACH
        102 => 39,             // ENETRESET
        103 => 13,             // ECONNABORTED
        104 => 15,             // ECONNRESET
        105 => 42,             // ENOBUFS
        106 => 30,             // EISCONN
        107 => 53,             // ENOTCONN
        108 => 64,             // ESHUTDOWN: sending after shutdown is a broken pipe
        110 => 73,             // ETIMEDOUT
        111 => 14,             // ECONNREFUSED
        112 | 113 => 23,       // EHOSTDOWN, EHOSTUNREACH
        114 => 7,              // EALREADY
        115 => 26,             // EINPROGRESS
        116 => 72,             // ESTALE
        122 => 19,             // EDQUOT
        125 => 11,             // ECANCELED
        130 => 62,             // EOWNERDEAD
        131 => 56,             // ENOTRECOVERABLE
        512..=514 | 516 => 27, // ERESTART*: interrupted by a signal
        515 => 59,             // ENOIOCTLCMD
        518 => 72,             // EOPENSTALE
        524 => 58,             // ENOTSUPP (kernel-internal)
        _ => 29,               // anything else: EIO
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_errnos_are_numbered_in_witx_order() {
        for (i, (e, _)) in ALL.iter().enumerate() {
            assert_eq!(usize::from(e.0), i, "errno {:?} out of order", ALL[i].1);
        }
        assert_eq!(ALL.len(), 77);
    }

    #[test]
    fn common_linux_errors_map_to_their_wasi_names() {
        let cases = [
            (0, Errno::SUCCESS),
            (1, Errno::PERM),
            (2, Errno::NOENT),
            (9, Errno::BADF),
            (11, Errno::AGAIN),
            (13, Errno::ACCES),
            (17, Errno::EXIST),
            (18, Errno::XDEV),
            (20, Errno::NOTDIR),
            (21, Errno::ISDIR),
            (22, Errno::INVAL),
            (28, Errno::NOSPC),
            (29, Errno::SPIPE),
            (32, Errno::PIPE),
            (36, Errno::NAMETOOLONG),
            (39, Errno::NOTEMPTY),
            (40, Errno::LOOP),
            (75, Errno::OVERFLOW),
            (88, Errno::NOTSOCK),
            (95, Errno::NOTSUP),
            (104, Errno::CONNRESET),
            (107, Errno::NOTCONN),
            (111, Errno::CONNREFUSED),
            (512, Errno::INTR),
        ];
        for (linux, wasi) in cases {
            assert_eq!(from_linux(linux), wasi, "linux errno {linux}");
            assert_eq!(from_linux(-linux), wasi, "negative linux errno {linux}");
        }
    }

    #[test]
    fn unknown_and_extreme_values_become_io() {
        for e in [15, 41, 4095, 9999, i32::MIN, i32::MAX] {
            assert_eq!(from_linux(e), Errno::IO, "linux errno {e}");
        }
    }

    #[test]
    fn every_mapping_lands_on_a_defined_errno() {
        for e in 0..5000 {
            assert!(usize::from(from_linux(e).0) < ALL.len(), "linux errno {e}");
        }
    }
}
