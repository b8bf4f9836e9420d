use std::borrow::Cow;

use super::*;

fn canary(p: i64) -> Flag {
    Flag {
        rule: Rule::Canary {
            percent: Percent::new(p).unwrap(),
            sticky_by: StickyBy::User,
        },
        source: "flags/x.toml".into(),
        shadow: None,
        fingerprint: [0; 32],
    }
}

fn route() -> RouteId {
    RouteId::parse("user-threads").unwrap()
}

#[test]
fn no_flag_means_next() {
    assert_eq!(decide(&route(), None, |_| Cow::from("u1")), Side::Next);
}

#[test]
fn same_user_lands_on_same_side_every_time() {
    let flag = canary(50);
    for u in 0..50 {
        let key = format!("user-{u}");
        let first = decide(&route(), Some(&flag), |_| Cow::from(key.as_str()));
        for _ in 0..1_000 {
            assert_eq!(
                decide(&route(), Some(&flag), |_| Cow::from(key.as_str())),
                first
            );
        }
    }
}

#[test]
fn share_on_rust_is_within_three_points_of_percent() {
    for p in [1, 10, 25, 50, 90] {
        let flag = canary(p);
        let on_rust = (0..10_000)
            .filter(|i| {
                let k = format!("id-{i}");
                decide(&route(), Some(&flag), |_| Cow::from(k.as_str())) == Side::Rust
            })
            .count();
        let share = on_rust as f64 / 100.0;
        assert!(
            (share - p as f64).abs() <= 3.0,
            "percent {p}: share {share}"
        );
    }
}

#[test]
fn client_on_rust_stays_on_rust_when_percent_rises() {
    let keys: Vec<String> = (0..2_000).map(|i| format!("k{i}")).collect();
    let at10: Vec<Side> = keys
        .iter()
        .map(|k| decide(&route(), Some(&canary(10)), |_| Cow::from(k.as_str())))
        .collect();
    let at40: Vec<Side> = keys
        .iter()
        .map(|k| decide(&route(), Some(&canary(40)), |_| Cow::from(k.as_str())))
        .collect();
    for (a, b) in at10.iter().zip(&at40) {
        if *a == Side::Rust {
            assert_eq!(*b, Side::Rust);
        }
    }
}

#[test]
fn zero_and_hundred_percent_are_absolute() {
    for i in 0..500 {
        let k = format!("x{i}");
        assert_eq!(
            decide(&route(), Some(&canary(0)), |_| Cow::from(k.as_str())),
            Side::Next
        );
        assert_eq!(
            decide(&route(), Some(&canary(100)), |_| Cow::from(k.as_str())),
            Side::Rust
        );
    }
}

#[test]
fn sticky_by_parses_and_rejects() {
    assert_eq!(
        StickyBy::parse("cookie:sid").unwrap(),
        StickyBy::Cookie("sid".into())
    );
    assert_eq!(
        StickyBy::parse("header:X-Device").unwrap(),
        StickyBy::Header("x-device".into())
    );
    assert!(StickyBy::parse("cookie:").is_err());
    assert!(
        StickyBy::parse("session")
            .unwrap_err()
            .contains("not one of")
    );
}
