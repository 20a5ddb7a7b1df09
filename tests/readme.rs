//! The README shows the echo example's code; it must be the real one.

#[test]
fn readme_shows_the_echo_example_verbatim() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/echo.rs");
    assert!(
        readme.contains(example.trim_end()),
        "README's echo code differs from examples/echo.rs: copy it over"
    );
}
