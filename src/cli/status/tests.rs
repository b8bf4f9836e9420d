use super::*;
use serde_json::json;

fn doc() -> Value {
    json!({
        "generation": 3,
        "reload_failures": 0,
        "last_rejected_flag_edit": null,
        "routes": [
            { "id": "a", "stage": "rust", "side": "rust", "shadow_percent": 0,
              "flag_file": { "valid": true, "file": "/etc/c/flags/a.toml" },
              "guard": { "state": "off" }, "window": null,
              "shadow": { "compared": 0 } },
            { "id": "longer-route", "stage": "tripped", "side": "canary 50%", "shadow_percent": 10,
              "flag_file": { "valid": false, "file": "/etc/c/flags/longer-route.toml", "line": 2 },
              "guard": { "state": "tripped" },
              "window": { "seconds": 60.0,
                "next": { "rps": 1.0, "error_ratio": 0.0, "p99_ms": 3.0 },
                "rust": { "rps": 0.5, "error_ratio": 1.0, "p99_ms": 7.0 } },
              "shadow": { "compared": 4, "mismatch_ratio": 0.5, "top_places": [{ "place": "/greeting", "count": 2 }] } },
        ],
    })
}

#[test]
fn rows_are_aligned_and_plain_without_a_terminal() {
    let out = render(&doc(), false);
    assert!(!out.contains('\x1b'), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let col = |l: &str, word: &str| l.find(word).unwrap_or_else(|| panic!("{word} in {l}"));
    assert_eq!(col(lines[1], "STAGE"), col(lines[2], "rust"));
    assert_eq!(col(lines[1], "STAGE"), col(lines[3], "tripped"));
    assert_eq!(
        col(lines[1], "FLAG FILE"),
        col(lines[3], "INVALID flags/longer-route.toml:2")
    );
    assert!(lines[3].contains("canary 50% +shadow 10%"));
    assert!(lines[3].ends_with("50.0% of 4 (/greeting)"), "{out}");
}

#[test]
fn colour_marks_trouble_only_when_asked() {
    let out = render(&doc(), true);
    assert!(out.contains("\x1b[31mTRIPPED\x1b[0m"), "{out}");
    assert!(out.contains("\x1b[32mrust\x1b[0m"), "{out}");
}
