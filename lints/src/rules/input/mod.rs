pub mod invalid_yaml;
pub mod not_an_object;
