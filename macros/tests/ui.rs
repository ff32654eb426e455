//! Misuse of `#[stevedore::main]` / `#[stevedore::test]` fails to compile
//! with a message at the offending tokens (the `.stderr` files next to each
//! case). Regenerate them after a deliberate change with
//! `TRYBUILD=overwrite cargo test -p stevedore-macros --test ui`.

#[test]
fn misuse_is_a_clear_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

#[test]
fn correct_uses_compile() {
    let t = trybuild::TestCases::new();
    t.pass("tests/pass/*.rs");
}
