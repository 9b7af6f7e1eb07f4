pub mod duplicate_object;
pub mod invalid;
