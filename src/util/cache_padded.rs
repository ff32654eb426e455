//! Aligns a value to its own cache line(s) so per-worker state written by
//! one core does not share a line with a neighbour's (false sharing).

use std::ops::Deref;

/// 128 bytes: two 64-byte lines, because x86's adjacent-line prefetcher
/// pulls lines in pairs.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(T);

impl<T> CachePadded<T> {
    pub(crate) const fn new(value: T) -> CachePadded<T> {
        CachePadded(value)
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
