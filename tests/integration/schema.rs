//! The committed schema matches the code.

#[test]
fn the_committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = api::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &current).expect("schema written");
        return;
    }
    assert!(
        committed == current,
        "docs/schema.graphql is out of date; run `UPDATE_SCHEMA=1 cargo test --test integration schema` and commit it"
    );
}
