use super::*;

fn change(side: Side, percent: Option<u8>, shadow: Option<u8>) -> Change {
    Change {
        side,
        percent,
        sticky_by: None,
        shadow,
    }
}

#[test]
fn flip_keeps_comments_key_order_and_the_shadow_setting() {
    let old = "# owner: chat team\nroute = \"threads\"\nbackend = \"next\"   # rolled back 11-28\nshadow = { percent = 20, noise_percent = 10 }\n";
    let (new, notes) = edit(Some(old), &change(Side::Rust, None, None));
    assert_eq!(
        new,
        "# owner: chat team\nroute = \"threads\"\nbackend = \"rust\"   # rolled back 11-28\nshadow = { percent = 20, noise_percent = 10 }\n"
    );
    assert!(notes.is_empty());
}

/// The shipped flag files: comment lines right above the key they change.
#[test]
fn comment_lines_above_the_flipped_key_are_kept() {
    let old = "# Who answers route `x`: backend = \"next\" | \"rust\",\n# or canary = { percent = 0..=100 }.\nbackend = \"next\"\n";
    let (new, _) = edit(Some(old), &change(Side::Rust, None, None));
    assert_eq!(
        new,
        old.replace("backend = \"next\"\n", "backend = \"rust\"\n")
    );
    let (back, _) = edit(Some(&new), &change(Side::Next, None, None));
    assert_eq!(back, old);
}

#[test]
fn a_canary_takes_backends_place_and_back() {
    let old = "# c\nbackend = \"next\" # x\nshadow = { percent = 5 }\n";
    let (canary, _) = edit(Some(old), &change(Side::Rust, Some(10), None));
    assert_eq!(
        canary,
        "# c\ncanary = { percent = 10 } # x\nshadow = { percent = 5 }\n"
    );
    let (back, _) = edit(Some(&canary), &change(Side::Next, None, Some(0)));
    assert_eq!(back, "# c\nbackend = \"next\" # x\n");
}

#[test]
fn a_canary_percent_changes_in_place_keeping_its_stickiness() {
    let old = "canary = { percent = 10, sticky_by = \"ip\" }\n";
    let (new, _) = edit(Some(old), &change(Side::Rust, Some(50), Some(20)));
    assert_eq!(
        new,
        "canary = { percent = 50, sticky_by = \"ip\" }\nshadow = { percent = 20 }\n"
    );
}

#[test]
fn unknown_keys_are_removed_and_named_and_a_new_file_says_who_wrote_it() {
    let (new, notes) = edit(Some("backnd = \"rust\"\n"), &change(Side::Next, None, None));
    assert_eq!(new, "backend = \"next\"\n");
    assert_eq!(notes, ["removed the unknown key `backnd`"]);
    let (fresh, _) = edit(None, &change(Side::Rust, None, None));
    assert_eq!(fresh, "# written by `cutover flip`\nbackend = \"rust\"\n");
}

#[test]
fn diff_marks_removed_and_added_lines() {
    assert_eq!(
        diff("# c\nbackend = \"next\"\n", "# c\nbackend = \"rust\"\n"),
        "  # c\n- backend = \"next\"\n+ backend = \"rust\"\n"
    );
}

fn args(backend: &str) -> FlipArgs {
    FlipArgs {
        route: "threads".into(),
        backend: backend.into(),
        percent: None,
        sticky_by: None,
        shadow: None,
        dry_run: false,
        wait: false,
        no_wait: false,
        admin: None,
        wait_timeout: 5,
    }
}

#[test]
fn contradictory_options_are_refused_with_the_fix() {
    let err = |a: FlipArgs| plan(&a).unwrap_err();
    assert!(
        err(FlipArgs {
            percent: Some(10),
            ..args("next")
        })
        .contains("--percent goes with rust")
    );
    assert!(
        err(FlipArgs {
            sticky_by: Some("ip".into()),
            ..args("rust")
        })
        .contains("add --percent N")
    );
    assert!(
        err(FlipArgs {
            dry_run: true,
            wait: true,
            ..args("rust")
        })
        .contains("--dry-run writes nothing")
    );
    assert!(
        err(FlipArgs {
            wait: true,
            no_wait: true,
            ..args("rust")
        })
        .contains("pick one")
    );
    assert!(
        err(FlipArgs {
            percent: Some(120),
            ..args("rust")
        })
        .contains("out of range 0..=100")
    );
    assert!(
        err(FlipArgs {
            shadow: Some(101),
            ..args("rust")
        })
        .contains("--shadow 101")
    );
    assert!(err(args("rsut")).contains("did you mean `rust`?"));
    assert_eq!(
        plan(&FlipArgs {
            percent: Some(10),
            sticky_by: Some("ip".into()),
            ..args("rust")
        })
        .unwrap(),
        Change {
            side: Side::Rust,
            percent: Some(10),
            sticky_by: Some("ip".into()),
            shadow: None
        }
    );
}
