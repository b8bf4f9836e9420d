//! The route table's layout.

use super::table;

#[test]
fn columns_are_as_wide_as_their_widest_cell() {
    let rows = [
        [
            "ROUTE".to_string(),
            "PATTERN".to_string(),
            "BACKEND".to_string(),
        ],
        [
            "a-very-long-route-id-indeed".into(),
            "/x".into(),
            "rust".into(),
        ],
        ["b".into(), "/a/{id}/longer".into(), "next".into()],
    ];
    let out = table(&rows);
    let lines: Vec<&str> = out.lines().collect();
    let col = |l: &str, word: &str| l.find(word).unwrap();
    assert_eq!(col(lines[0], "PATTERN"), col(lines[1], "/x"));
    assert_eq!(col(lines[1], "/x"), col(lines[2], "/a/"));
    assert_eq!(col(lines[0], "BACKEND"), col(lines[2], "next"));
    assert!(out.lines().all(|l| !l.ends_with(' ')), "{out}");
}
