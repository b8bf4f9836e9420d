//! Unit tests of the pure store helpers: JS timestamps, keyset cursors and
//! the keyset page statement tail.

use chrono::TimeZone;

use super::cursor::{BadCursor, Cursor, page};
use super::*;

#[test]
fn timestamps_print_like_javascript_to_iso_string() {
    let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::milliseconds(7);
    assert_eq!(js_iso(&t), "2026-01-02T03:04:05.007Z");
}

#[test]
fn cursor_round_trips() {
    let c = Cursor {
        created_at: Utc.with_ymd_and_hms(2026, 5, 6, 7, 8, 9).unwrap(),
        id: "abc|def".into(),
    };
    assert_eq!(Cursor::decode(&c.encode()), Ok(c));
}

#[test]
fn cursor_matches_the_javascript_encoding() {
    // Buffer.from("2026-05-06T07:08:09.000Z|m1").toString("base64url")
    let c = Cursor::decode("MjAyNi0wNS0wNlQwNzowODowOS4wMDBafG0x").unwrap();
    assert_eq!(c.id, "m1");
    assert_eq!(js_iso(&c.created_at), "2026-05-06T07:08:09.000Z");
}

#[test]
fn garbage_cursors_are_rejected() {
    for bad in ["", "!!!", "bm9waXBl", "MjAyNnxh", "fGE"] {
        assert_eq!(Cursor::decode(bad), Err(BadCursor), "{bad}");
    }
}

#[test]
fn page_with_an_extra_row_has_a_next_cursor() {
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let key = |i: &u32| Cursor {
        created_at: t,
        id: i.to_string(),
    };
    let (rows, next) = page(vec![3, 2, 1], 2, key);
    assert_eq!(rows, vec![3, 2]);
    assert_eq!(Cursor::decode(&next.unwrap()).unwrap().id, "2");
    let (rows, next) = page(vec![3, 2], 2, key);
    assert_eq!((rows.len(), next), (2, None));
}

#[test]
fn keyset_tail_pages_strictly_older_rows_newest_first() {
    const PAGE: super::keyset::Page =
        super::keyset::newest_first!(r#"SELECT "id" FROM t WHERE "k" = $4"#, "ts");
    let tail = "\n ORDER BY \"ts\" DESC, \"id\" DESC\n LIMIT $3";
    assert_eq!(
        PAGE.first,
        format!(
            "{}{}{tail}",
            r#"SELECT "id" FROM t WHERE "k" = $4"#,
            "\n AND $1::timestamptz IS NULL AND $2::text IS NULL",
        )
    );
    assert_eq!(
        PAGE.after,
        format!(
            "{}{}{tail}",
            r#"SELECT "id" FROM t WHERE "k" = $4"#, "\n AND (\"ts\", \"id\") < ($1, $2)",
        )
    );
}
