//! A tiny per-thread xorshift generator for victim selection and `select!`
//! arm order. Not cryptographic; never shared between threads.

use std::cell::Cell;

crate::loom::thread_local! {
    static STATE: Cell<u64> = Cell::new(0);
}

/// Returns a pseudo-random number in `0..n` (`n > 0`).
pub(crate) fn below(n: u32) -> u32 {
    debug_assert!(n > 0);
    let r = next_u32();
    // Lemire's multiply-shift reduction: unbiased enough for scheduling.
    ((u64::from(r) * u64::from(n)) >> 32) as u32
}

fn next_u32() -> u32 {
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = seed();
        }
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    })
}

#[cfg(not(stevedore_loom))]
fn seed() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_usize(&h as *const _ as usize);
    h.finish() | 1
}

/// loom replays executions, so every model thread starts from the same seed.
#[cfg(stevedore_loom)]
fn seed() -> u64 {
    0x9E37_79B9_7F4A_7C15
}

/// Shuffles `order` in place (Fisher–Yates).
pub(crate) fn shuffle(order: &mut [u8]) {
    for i in (1..order.len()).rev() {
        let j = below(i as u32 + 1) as usize;
        order.swap(i, j);
    }
}
