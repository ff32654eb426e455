//! Synchronisation for green tasks: [`WaitGroup`].

mod wait_group;

pub use self::wait_group::{Wait, WaitGroup};
