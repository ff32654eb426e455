//! Small building blocks shared by several layers.

pub(crate) mod cache_padded;
pub(crate) mod linked_list;
pub(crate) mod panic;
pub(crate) mod rand;
