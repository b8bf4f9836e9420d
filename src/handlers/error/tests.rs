use axum::response::IntoResponse;

use super::*;

async fn body_of(r: Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn an_unreachable_database_is_a_503_naming_it_with_retry_after() {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let e = HandlerError::from(sqlx::Error::Io(refused));
    assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = e.into_response();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()[http::header::RETRY_AFTER], "5");
    let down = r.extensions().get::<DependencyDown>().cloned().unwrap();
    assert_eq!(down.backend, Backend::Database);
    let body = body_of(r).await;
    assert_eq!(body["error"], "rust_backend_unavailable");
    assert_eq!(body["dependency"], "database");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .starts_with("database unreachable: connection refused"),
        "{body}"
    );
}

#[tokio::test]
async fn a_pool_timeout_is_unavailable_but_a_failed_query_stays_internal() {
    let timed_out = HandlerError::from(StoreError::Database(sqlx::Error::PoolTimedOut));
    assert_eq!(timed_out.status(), StatusCode::SERVICE_UNAVAILABLE);
    let query = HandlerError::from(sqlx::Error::RowNotFound);
    assert_eq!(query.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let r = query.into_response();
    assert!(r.extensions().get::<DependencyDown>().is_none());
    assert_eq!(body_of(r).await["error"], "internal");
}
