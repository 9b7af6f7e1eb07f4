//! `include_dir!` cannot tell cargo which files it read, so rebuild the crate whenever the
//! embedded default catalogue (`../templates`) changes.

fn main() {
    println!("cargo:rerun-if-changed=../templates");
    println!("cargo:rerun-if-changed=build.rs");
}
