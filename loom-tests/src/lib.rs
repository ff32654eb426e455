//! loom models of stevedore's concurrency protocols live in `tests/`.
//! Run them with `RUSTFLAGS="--cfg stevedore_loom -C debug-assertions"
//! LOOM_MAX_PREEMPTIONS=2 cargo test -p stevedore-loom-tests --release`.
