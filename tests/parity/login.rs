//! Issue 3 end to end with the real Next app: log in through NextAuth's
//! credentials flow VIA cutover (`GET /api/auth/csrf`, `POST
//! /api/auth/callback/credentials` with the csrf cookie), then call
//! `required` routes through cutover with the session cookie NextAuth set:
//! the Next route sees the same user through its own `getServerSession` and
//! through cutover's `x-cutover-user-id`; after a flip the rust handler acts
//! as that same user.

use serde_json::Value;

use crate::harness::Recorder;
use crate::stack::{Side, Stack};

/// The legacy app's debug route (tests/legacy-next/app/api/debug/whoami).
const WHOAMI_ROUTE: &str = r#"
[[route]]
id = "debug-whoami"
path = "/api/debug/whoami"
methods = ["GET"]
auth = "required"
schemes = ["session"]
"#;

/// `name=value` of each Set-Cookie.
fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

fn backend(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-cutover-backend")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

/// The credentials flow through cutover; the session cookie, if NextAuth set one.
async fn log_in(
    client: &reqwest::Client,
    stack: &Stack,
    email: &str,
    password: &str,
) -> Option<String> {
    let res = client
        .get(stack.url("/api/auth/csrf"))
        .send()
        .await
        .expect("csrf");
    assert_eq!(res.status(), 200, "GET /api/auth/csrf");
    let cookies = set_cookies(&res);
    let csrf: Value = res.json().await.expect("csrf JSON");
    let token = csrf["csrfToken"].as_str().expect("csrfToken").to_owned();
    let res = client
        .post(stack.url("/api/auth/callback/credentials"))
        .header("cookie", cookies.join("; "))
        .form(&[
            ("csrfToken", token.as_str()),
            ("email", email),
            ("password", password),
            ("callbackUrl", "/"),
            ("json", "true"),
        ])
        .send()
        .await
        .expect("credentials callback");
    set_cookies(&res).into_iter().find(|c| {
        c.starts_with("next-auth.session-token=") && c.len() > "next-auth.session-token=".len()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs node/npm (next build ~1 min the first time); run with --ignored"]
async fn credentials_login_via_cutover_reaches_next_and_rust_as_the_same_user() {
    let (_recorder, pusher_url) = Recorder::start().await;
    let pusher_port: u16 = pusher_url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("recorder port");
    let stack = Stack::start(Side::Next, pusher_port, WHOAMI_ROUTE).await;
    sqlx::query(r#"UPDATE "User" SET "passwordHash" = 'sha256:' || encode(sha256(convert_to($1, 'UTF8')), 'hex') WHERE "id" = 'u1'"#)
        .bind("correct horse")
        .execute(&stack.db.pool)
        .await
        .expect("set u1's password");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    assert_eq!(
        log_in(&client, &stack, "alice@example.com", "wrong").await,
        None,
        "a wrong password got a session"
    );
    let session = log_in(&client, &stack, "alice@example.com", "correct horse")
        .await
        .expect("NextAuth set a session cookie through cutover");

    // Next: its own getServerSession and cutover's verified header agree.
    let res = client
        .get(stack.url("/api/debug/whoami"))
        .header("cookie", &session)
        .send()
        .await
        .expect("whoami");
    assert_eq!(
        (res.status().as_u16(), backend(&res).as_str()),
        (200, "next")
    );
    let who: Value = res.json().await.expect("whoami JSON");
    assert_eq!(who["sessionUserId"], "u1", "{who}");
    assert_eq!(who["headerUserId"], "u1", "{who}");
    assert_eq!(who["headerAuth"], "session", "{who}");
    // `required`: without the cookie cutover answers, not Next.
    let res = client
        .get(stack.url("/api/debug/whoami"))
        .send()
        .await
        .expect("whoami anonymous");
    assert_eq!(
        (res.status().as_u16(), backend(&res) != "next"),
        (401, true)
    );

    // A contract route on next, then flipped to rust: the same sender.
    let send = |key: String| {
        let (client, url, session) = (
            client.clone(),
            stack.url("/api/chat/user-threads/th1/messages"),
            session.clone(),
        );
        async move {
            let res = client
                .post(url)
                .header("cookie", session)
                .json(&serde_json::json!({"body": "logged in", "clientMessageId": key}))
                .send()
                .await
                .expect("send");
            let side = backend(&res);
            let status = res.status().as_u16();
            let v: Value = res.json().await.expect("send JSON");
            (status, side, v["message"]["senderId"].clone())
        }
    };
    assert_eq!(
        send("login-next".into()).await,
        (201, "next".into(), "u1".into())
    );
    stack.flip("user-thread-messages", Side::Rust).await;
    let mut on_rust = None;
    for i in 0..100 {
        let got = send(format!("login-rust-{i}")).await;
        if got.1 == "rust" {
            on_rust = Some(got);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        on_rust,
        Some((201, "rust".into(), "u1".into())),
        "the rust handler did not act as u1"
    );
}
