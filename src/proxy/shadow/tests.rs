use super::*;

fn req(headers: &[(&str, &str)]) -> pingora::http::RequestHeader {
    let mut r = pingora::http::RequestHeader::build("POST", b"/x", None).unwrap();
    for (k, v) in headers {
        r.insert_header(k.to_string(), v.to_string()).unwrap();
    }
    r
}

#[test]
fn request_without_framing_headers_has_an_empty_body() {
    assert_eq!(request_body_len(&req(&[])), Some(0));
}

#[test]
fn content_length_gives_the_body_length() {
    assert_eq!(
        request_body_len(&req(&[("content-length", "12")])),
        Some(12)
    );
}

#[test]
fn chunked_body_has_an_unknown_length() {
    assert_eq!(
        request_body_len(&req(&[("transfer-encoding", "chunked")])),
        None
    );
}

#[test]
fn copy_drops_host_framing_hop_by_hop_and_cutover_headers() {
    let r = req(&[
        ("host", "example.com"),
        ("content-length", "3"),
        ("connection", "keep-alive"),
        ("x-cutover-user-id", "forged"),
        ("x-cutover-shadow", "0"),
        ("cookie", "a=1"),
        ("accept", "application/json"),
    ]);
    let out = copy_headers(&r.headers);
    let names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(out.contains_key("cookie") && out.contains_key("accept"));
}
