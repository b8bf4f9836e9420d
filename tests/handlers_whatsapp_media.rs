//! `GET /api/whatsapp/media/{id}` through the router (`oneshot`, fresh
//! database per test, media root in a tempdir): headers, conditional and
//! ranged requests, tenancy, unsafe object names, and streaming of a large
//! file in bounded chunks.

#[path = "support/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use cutover::identity::Identity;
use harness::{App, user, visitor};
use http_body::Body as _;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

/// The body of every test file (10 bytes).
const PHOTO: &[u8] = b"0123456789";
/// A file outside the media root that must never be served.
const SECRET: &[u8] = b"TOP-SECRET-OUTSIDE-THE-ROOT";
/// The route's read size.
const CHUNK: usize = 64 * 1024;

/// Seeded app + sessions s1 (tenant t1: u1, u2, u3) and s2 (tenant t2: u4),
/// a tempdir holding `root/` (the media root) and `secret` beside it.
struct Media {
    app: App,
    dir: TempDir,
    router: Router,
}

impl Media {
    async fn new() -> Media {
        let app = App::new().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        std::fs::write(dir.path().join("secret"), SECRET).unwrap();
        sqlx::raw_sql(
            r#"INSERT INTO whatsapp_sessions ("sessionId", "tenantId", "name")
               VALUES ('s1', 't1', 'Acme WA'), ('s2', 't2', 'Globex WA')"#,
        )
        .execute(&app.db.pool)
        .await
        .unwrap();
        let root = Some(dir.path().join("root"));
        let router = cutover::handlers::router(app.state.clone().with_media_root(root));
        Media { app, dir, router }
    }

    /// [`Media::new`] plus message `m1` of s1: `photo.jpg` (PHOTO), image/jpeg.
    async fn photo() -> Media {
        let m = Media::new().await;
        m.file("photo.jpg", PHOTO);
        m.message("m1", "s1", Some("photo.jpg"), Some("image/jpeg"), None)
            .await;
        m
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Writes `root/<name>` (creating directories).
    fn file(&self, name: &str, bytes: &[u8]) {
        let path = self.root().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Inserts a `whatsapp_messages` row with id = messageId = `id`.
    async fn message(
        &self,
        id: &str,
        session: &str,
        media_url: Option<&str>,
        mime: Option<&str>,
        metadata: Option<Value>,
    ) {
        sqlx::query(
            r#"INSERT INTO whatsapp_messages
                 ("id", "sessionId", "messageId", "remoteJid", "messageType",
                  "mediaUrl", "mediaMimeType", "metadata", "timestamp")
               VALUES ($1, $2, $1, '4915112345678@s.whatsapp.net', 'DOCUMENT',
                       $3, $4, $5, now())"#,
        )
        .bind(id)
        .bind(session)
        .bind(media_url)
        .bind(mime)
        .bind(metadata)
        .execute(&self.app.db.pool)
        .await
        .unwrap();
    }

    async fn request(
        &self,
        method: &str,
        id: &str,
        who: Option<Identity>,
        headers: &[(&str, &str)],
    ) -> Response<Body> {
        request(&self.router, method, id, who, headers).await
    }

    async fn get(&self, id: &str, headers: &[(&str, &str)]) -> Response<Body> {
        self.request("GET", id, Some(user("u1")), headers).await
    }
}

async fn request(
    router: &Router,
    method: &str,
    id: &str,
    who: Option<Identity>,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/api/whatsapp/media/{id}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(who) = who {
        req.extensions_mut().insert(who);
    }
    router.clone().oneshot(req).await.unwrap()
}

/// Every response header as (name, value), sorted.
fn header_list(res: &Response<Body>) -> Vec<(String, String)> {
    let mut list: Vec<_> = res
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    list.sort();
    list
}

fn header<'a>(res: &'a Response<Body>, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.sort();
    v
}

async fn body(res: Response<Body>) -> Vec<u8> {
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// Status, content type and exact body of an error response.
async fn error(res: Response<Body>) -> (StatusCode, Option<String>, String) {
    let status = res.status();
    let ct = header(&res, "content-type").map(str::to_owned);
    (status, ct, String::from_utf8(body(res).await).unwrap())
}

fn json_error(status: StatusCode, message: &str) -> (StatusCode, Option<String>, String) {
    (
        status,
        Some("application/json".to_owned()),
        json!({ "error": message }).to_string(),
    )
}

/// The bytes of the large test file: position-dependent, so a misplaced
/// chunk shows.
fn pattern(i: u64) -> u8 {
    ((i % 251) as u8) ^ ((i >> 16) as u8)
}

fn write_pattern(path: &Path, size: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut block = vec![0u8; 1 << 20];
    let mut at = 0u64;
    while at < size {
        let n = block.len().min((size - at) as usize);
        for (k, b) in block[..n].iter_mut().enumerate() {
            *b = pattern(at + k as u64);
        }
        f.write_all(&block[..n]).unwrap();
        at += n as u64;
    }
    f.flush().unwrap();
}

#[tokio::test]
async fn whole_file_is_served_with_every_contract_header() {
    let m = Media::new().await;
    m.file("s1/photo.jpg", PHOTO);
    m.message("m1", "s1", Some("s1/photo.jpg"), Some("image/jpeg"), None)
        .await;

    let res = m.get("m1", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header_list(&res),
        pairs(&[
            ("content-type", "image/jpeg"),
            ("accept-ranges", "bytes"),
            ("cache-control", "private, max-age=3600"),
            ("etag", "\"m1-10\""),
            ("content-disposition", "inline"),
            ("content-length", "10"),
        ])
    );
    assert_eq!(body(res).await, PHOTO);
}

#[tokio::test]
async fn missing_mime_type_is_served_as_octet_stream() {
    let m = Media::new().await;
    m.file("blob", PHOTO);
    m.message("m1", "s1", Some("blob"), None, None).await;

    let res = m.get("m1", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "content-type"),
        Some("application/octet-stream")
    );
}

#[tokio::test]
async fn head_has_the_get_headers_and_no_body() {
    let m = Media::photo().await;

    let got = header_list(&m.get("m1", &[]).await);
    let res = m.request("HEAD", "m1", Some(user("u1")), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header_list(&res), got);
    assert!(body(res).await.is_empty());
}

#[tokio::test]
async fn byte_ranges_return_206_with_the_exact_part_and_content_range() {
    let m = Media::photo().await;

    for (range, part, content_range) in [
        ("bytes=2-5", &b"2345"[..], "bytes 2-5/10"),
        ("bytes=7-", &b"789"[..], "bytes 7-9/10"),
        ("bytes=-3", &b"789"[..], "bytes 7-9/10"),
        ("bytes=8-100", &b"89"[..], "bytes 8-9/10"),
        ("bytes=-50", PHOTO, "bytes 0-9/10"),
    ] {
        let res = m.get("m1", &[("range", range)]).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        let len = part.len().to_string();
        assert_eq!(
            header_list(&res),
            pairs(&[
                ("content-type", "image/jpeg"),
                ("accept-ranges", "bytes"),
                ("cache-control", "private, max-age=3600"),
                ("etag", "\"m1-10\""),
                ("content-disposition", "inline"),
                ("content-length", &len),
                ("content-range", content_range),
            ]),
            "{range}"
        );
        assert_eq!(body(res).await, part, "{range}");
    }
}

#[tokio::test]
async fn matching_if_none_match_is_304_with_the_headers_and_no_body() {
    let m = Media::photo().await;

    for inm in ["\"m1-10\"", "*", "\"old\", \"m1-10\"", "W/\"m1-10\""] {
        let res = m
            .get("m1", &[("if-none-match", inm), ("range", "bytes=0-1")])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{inm}");
        assert_eq!(
            header_list(&res),
            pairs(&[
                ("content-type", "image/jpeg"),
                ("accept-ranges", "bytes"),
                ("cache-control", "private, max-age=3600"),
                ("etag", "\"m1-10\""),
                ("content-disposition", "inline"),
            ]),
            "{inm}"
        );
        assert!(body(res).await.is_empty());
    }
    // The size is part of the tag: a changed file is sent again.
    let res = m.get("m1", &[("if-none-match", "\"m1-9\"")]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn unsatisfiable_range_is_416_with_the_file_size() {
    let m = Media::photo().await;

    for range in ["bytes=10-", "bytes=10-20", "bytes=-0"] {
        let res = m.get("m1", &[("range", range)]).await;
        assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            header_list(&res),
            pairs(&[
                ("content-type", "application/json"),
                ("content-range", "bytes */10"),
                ("content-length", "33"),
            ]),
            "{range}"
        );
        assert_eq!(body(res).await, br#"{"error":"Range not satisfiable"}"#);
    }
}

#[tokio::test]
async fn multi_range_or_invalid_range_is_ignored_with_the_whole_file() {
    let m = Media::photo().await;

    for range in ["bytes=0-1,4-5", "bytes=5-2", "bytes=abc", "pages=1-2"] {
        let res = m.get("m1", &[("range", range)]).await;
        assert_eq!(res.status(), StatusCode::OK, "{range}");
        assert_eq!(header(&res, "content-range"), None);
        assert_eq!(header(&res, "content-length"), Some("10"));
        assert_eq!(body(res).await, PHOTO, "{range}");
    }
}

#[tokio::test]
async fn stale_if_range_gets_the_whole_file() {
    let m = Media::photo().await;

    let res = m
        .get("m1", &[("range", "bytes=0-1"), ("if-range", "\"m1-10\"")])
        .await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(body(res).await, b"01");
    let res = m
        .get("m1", &[("range", "bytes=0-1"), ("if-range", "\"m1-9\"")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, PHOTO);
}

#[tokio::test]
async fn document_file_name_sets_ascii_and_utf8_filename_parameters() {
    let m = Media::new().await;
    m.file("doc.pdf", PHOTO);
    let metadata = json!({"key": {"id": "m1"}, "message": {"documentMessage": {
        "fileName": "Résumé \"final\".pdf", "mimetype": "application/pdf"}}});
    m.message(
        "m1",
        "s1",
        Some("doc.pdf"),
        Some("application/pdf"),
        Some(metadata),
    )
    .await;

    let res = m.get("m1", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "content-disposition"),
        Some(
            "inline; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
        )
    );
}

#[tokio::test]
async fn message_of_another_tenant_is_404_exactly_like_a_missing_one() {
    let m = Media::photo().await;
    m.message("m2", "s2", Some("photo.jpg"), Some("image/jpeg"), None)
        .await;

    let missing = m.get("nope", &[]).await;
    let missing_headers = header_list(&missing);
    let expected = json_error(StatusCode::NOT_FOUND, "Message not found");
    assert_eq!(error(missing).await, expected);
    // u1 (t1) asks for t2's message; u4 (t2) for t1's.
    let foreign = m.get("m2", &[]).await;
    assert_eq!(header_list(&foreign), missing_headers);
    assert_eq!(error(foreign).await, expected);
    let foreign = m.request("GET", "m1", Some(user("u4")), &[]).await;
    assert_eq!(error(foreign).await, expected);
    // A member of t2 gets its own message.
    let own = m.request("GET", "m2", Some(user("u4")), &[]).await;
    assert_eq!(own.status(), StatusCode::OK);
}

#[tokio::test]
async fn message_without_media_is_404_message_not_found() {
    let m = Media::new().await;
    m.message("text", "s1", None, None, None).await;
    m.message("empty", "s1", Some(""), Some("image/jpeg"), None)
        .await;

    for id in ["text", "empty"] {
        assert_eq!(
            error(m.get(id, &[]).await).await,
            json_error(StatusCode::NOT_FOUND, "Message not found"),
            "{id}"
        );
    }
}

#[tokio::test]
async fn missing_file_or_a_directory_is_404_media_not_found() {
    let m = Media::new().await;
    std::fs::create_dir(m.root().join("adir")).unwrap();
    m.message("gone", "s1", Some("s1/gone.jpg"), Some("image/jpeg"), None)
        .await;
    m.message("dir", "s1", Some("adir"), None, None).await;

    for id in ["gone", "dir"] {
        assert_eq!(
            error(m.get(id, &[]).await).await,
            json_error(StatusCode::NOT_FOUND, "Media not found"),
            "{id}"
        );
    }
}

#[tokio::test]
async fn traversal_names_are_404_and_the_outside_file_is_never_served() {
    let m = Media::new().await;
    m.file("x", PHOTO);
    m.file("a/inside.jpg", PHOTO);
    let names = [
        "../secret",
        "/etc/passwd",
        "a/../../x",
        "a/../../secret",
        "a\\..\\x",
        "a\\..\\..\\secret",
        // Would resolve to an existing file inside the root: refused by the
        // name rule alone, before any filesystem access.
        "a/../x",
        "./x",
        "a//inside.jpg",
    ];
    for (i, name) in names.iter().enumerate() {
        let id = format!("t{i}");
        m.message(&id, "s1", Some(name), None, None).await;
        let res = m.get(&id, &[]).await;
        assert_eq!(
            error(res).await,
            json_error(StatusCode::NOT_FOUND, "Media not found"),
            "{name}"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn symlink_leaving_the_root_is_404_and_one_inside_is_followed() {
    use std::os::unix::fs::symlink;
    let m = Media::new().await;
    m.file("inside.jpg", PHOTO);
    symlink(m.dir.path().join("secret"), m.root().join("link")).unwrap();
    symlink(m.dir.path(), m.root().join("up")).unwrap();
    symlink(m.root().join("inside.jpg"), m.root().join("alias.jpg")).unwrap();
    m.message("file-link", "s1", Some("link"), None, None).await;
    m.message("dir-link", "s1", Some("up/secret"), None, None)
        .await;
    m.message("inner", "s1", Some("alias.jpg"), None, None)
        .await;

    for id in ["file-link", "dir-link"] {
        let (status, _, text) = error(m.get(id, &[]).await).await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::NOT_FOUND, r#"{"error":"Media not found"}"#),
            "{id}"
        );
    }
    let res = m.get("inner", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, PHOTO);
}

#[tokio::test]
async fn unset_media_root_is_503() {
    let m = Media::photo().await;
    let router = cutover::handlers::router(m.app.state.clone().with_media_root(None));

    let res = request(&router, "GET", "m1", Some(user("u1")), &[]).await;
    assert_eq!(
        error(res).await,
        json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Media storage not configured"
        )
    );
}

#[tokio::test]
async fn wrong_identity_kind_is_403_and_no_identity_is_401() {
    let m = Media::photo().await;

    let res = m.request("GET", "m1", Some(visitor("v1", "t1")), &[]).await;
    assert_eq!(
        error(res).await,
        json_error(StatusCode::FORBIDDEN, "Forbidden")
    );
    let res = m.request("GET", "m1", None, &[]).await;
    assert_eq!(
        error(res).await,
        json_error(StatusCode::UNAUTHORIZED, "Unauthorized")
    );
}

#[tokio::test]
async fn large_file_streams_in_bounded_chunks() {
    const SIZE: u64 = 64 << 20;
    let m = Media::new().await;
    write_pattern(&m.root().join("big.bin"), SIZE);
    m.message("big", "s1", Some("big.bin"), Some("video/mp4"), None)
        .await;

    let res = m.get("big", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-length"), Some("67108864"));
    assert_eq!(header(&res, "etag"), Some("\"big-67108864\""));
    let mut stream = res.into_body();
    // A body collected in the handler would know its exact length.
    assert_eq!(stream.size_hint().exact(), None);
    let (mut at, mut chunks) = (0u64, 0usize);
    while let Some(frame) = stream.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        assert!(data.len() <= CHUNK, "chunk of {} bytes", data.len());
        for (k, &b) in data.iter().enumerate() {
            assert!(
                b == pattern(at + k as u64),
                "byte {} differs",
                at + k as u64
            );
        }
        at += data.len() as u64;
        chunks += 1;
    }
    assert_eq!(at, SIZE);
    assert!(chunks >= (SIZE as usize) / CHUNK, "{chunks} chunks");

    // A range deep inside is read from there, not from the start.
    let res = m.get("big", &[("range", "bytes=40000000-40000009")]).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&res, "content-range"),
        Some("bytes 40000000-40000009/67108864")
    );
    let expected: Vec<u8> = (40_000_000..40_000_010).map(pattern).collect();
    assert_eq!(body(res).await, expected);
}
