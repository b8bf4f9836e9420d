use super::*;

#[test]
fn no_keys_mean_keep() {
    assert_eq!(
        StreamPolicy::parse(None, None, None),
        Ok(StreamPolicy::Keep)
    );
}

#[test]
fn drain_needs_max_age_and_migrate_defaults_to_fifty_per_second() {
    assert_eq!(
        StreamPolicy::parse(Some("drain"), None, None)
            .unwrap_err()
            .0,
        Key::Streams
    );
    assert_eq!(
        StreamPolicy::parse(Some("drain"), Some("1h"), None),
        Ok(StreamPolicy::Drain {
            max_age: Duration::from_secs(3600)
        })
    );
    assert_eq!(
        StreamPolicy::parse(Some("migrate"), None, None),
        Ok(StreamPolicy::Migrate { pace: DEFAULT_PACE })
    );
    let pace = StreamPolicy::parse(Some("migrate"), None, Some("120/m")).unwrap();
    assert_eq!(
        pace,
        StreamPolicy::Migrate {
            pace: Pace {
                per_second: NonZeroU32::new(2).unwrap()
            }
        }
    );
}

#[test]
fn keys_of_another_policy_and_bad_values_are_refused() {
    for (s, a, p, key) in [
        (Some("keep"), Some("1h"), None, Key::MaxAge),
        (None, None, Some("5/s"), Key::Pace),
        (Some("drain"), Some("1h"), Some("5/s"), Key::Pace),
        (Some("drain"), Some("0s"), None, Key::MaxAge),
        (Some("drain"), Some("1 h"), None, Key::MaxAge),
        (Some("migrate"), None, Some("0/s"), Key::Pace),
        (Some("migrate"), None, Some("5/h"), Key::Pace),
        (Some("migrate"), None, Some("30/m"), Key::Pace),
        (Some("move"), None, None, Key::Streams),
    ] {
        assert_eq!(
            StreamPolicy::parse(s, a, p).unwrap_err().0,
            key,
            "{s:?} {a:?} {p:?}"
        );
    }
}
