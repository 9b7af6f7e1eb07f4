//! The process's allocator: mimalloc, told to keep the memory a command frees.
//!
//! Planning a fleet allocates millions of small strings and maps; mimalloc is markedly faster
//! than the system allocator at that, and the output does not depend on it.
//!
//! By default mimalloc hands memory that stayed free for a second back to the system
//! ("purging"); when the command allocates again, the kernel maps and zeroes fresh pages for it.
//! A fleet command frees and reallocates per site all along its run, so the purges grow with
//! both its length and its heap: a 100,000-site `generate` took about 25,000 page faults with
//! purging (10,000 sites: 2,000-4,000) against 1,300 without, and a second of CPU in the kernel
//! zeroing the same pages again. `generate` ends within minutes, so it keeps freed memory for
//! reuse until it exits. Other commands keep mimalloc's default: `lint --fleet --shard` of
//! 100,000 sites peaked at 286-314 MiB without purging against 253-276 MiB with it, and its
//! target is 300 MiB. A user's own `MIMALLOC_PURGE_DELAY` still wins.

use std::ffi::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its position in mimalloc 3's `mi_option_e` (`mimalloc.h`); the
/// test below checks it against the option's documented default.
const MI_OPTION_PURGE_DELAY: c_int = 15;

// Part of the mimalloc library the global allocator links in.
unsafe extern "C" {
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
    fn mi_option_set(option: c_int, value: c_long);
}

/// Keeps freed memory in the process (no purging) unless the user set `MIMALLOC_PURGE_DELAY`.
/// Called in `main` before any other thread exists (mimalloc's options are not thread safe to
/// set).
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain C call that stores an integer option; no other thread runs yet.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // Test binaries do not call `keep_freed_memory`: mimalloc's own default (1,000 ms in
        // mimalloc 3) must show at the position this module writes to, or the constant names
        // another option.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: a plain C call that reads an integer option.
            assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, 1000);
        }
    }
}
