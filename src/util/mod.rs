//! Small building blocks shared by several layers.

pub(crate) mod linked_list;
pub(crate) mod rand;
