// `embed_migrations!` only re-reads the migrations folder when cargo reruns the build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
