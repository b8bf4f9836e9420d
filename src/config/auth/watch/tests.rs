//! Which files a reload watches, and that their content is in the config hash.

use super::referenced_files;
use crate::config::ConfigFiles;

const AUTH: &str = r#"
[auth]
identity_key_file = "keys/identity"
[auth.session]
flavor = "nextauth-v4"
secret_files = ["keys/current", "keys/previous"]
[[auth.chatbot]]
name = "widget"
issuer = "https://w"
algorithms = ["HS256", "RS256"]
hs256_secret_file = "keys/hs"
public_key_files = ["keys/a.pem", "keys/current"]
jwks_file = "keys/jwks.json"
jwks_url = "https://w/jwks.json"
"#;

#[test]
fn every_file_auth_names_is_watched_once() {
    assert_eq!(
        referenced_files(AUTH),
        [
            "keys/identity",
            "keys/current",
            "keys/previous",
            "keys/hs",
            "keys/a.pem",
            "keys/jwks.json"
        ]
    );
    assert!(referenced_files("[auth\nbroken").is_empty());
    assert!(referenced_files("[server]\nlisten = \"x\"\n").is_empty());
}

#[test]
fn config_hash_changes_with_a_secret_file_and_never_holds_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let routes = dir.path().join("routes.toml");
    std::fs::write(&routes, AUTH).unwrap();
    let missing = ConfigFiles::read(&routes).unwrap();
    assert!(missing.secret_files.iter().all(|(_, h)| h.is_none()));
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/current"), "one").unwrap();
    let one = ConfigFiles::read(&routes).unwrap();
    std::fs::write(dir.path().join("keys/current"), "two").unwrap();
    let two = ConfigFiles::read(&routes).unwrap();
    assert_ne!(missing.hash, one.hash);
    assert_ne!(one.hash, two.hash);
    let (path, hash) = &two.secret_files[1];
    assert_eq!(path, &dir.path().join("keys/current"));
    assert!(hash.is_some());
    assert_eq!(ConfigFiles::read(&routes).unwrap().hash, two.hash);
}
