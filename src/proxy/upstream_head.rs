//! The request head an upstream (next, or a remote rust) receives: the
//! rewritten target (rust's path, or next's without `?token=`), header
//! hygiene (client-sent identity headers removed), `X-Forwarded-*`, and the
//! verified identity as signed `x-cutover-*` headers bound to this very
//! request. Called from `upstream_request_filter`, once per attempt.

use pingora::http::RequestHeader;
use pingora::proxy::Session;
use pingora::{Error, ErrorType, Result};

use super::{Ctx, headers, unix_now};
use crate::flags::Side;
use crate::identity::{Audience, SignedRequest, signed_identity};

pub(super) fn prepare(session: &Session, upstream: &mut RequestHeader, ctx: &Ctx) -> Result<()> {
    let rewrite = match ctx.side {
        Side::Rust => ctx.rust_path.as_deref(),
        Side::Next => ctx.next_path.as_deref(),
    };
    if let Some(p) = rewrite {
        let uri: http::Uri = p
            .parse()
            .map_err(|e| Error::because(ErrorType::InvalidHTTPHeader, "rewritten path", e))?;
        upstream.set_uri(uri);
    }
    headers::clean_request(upstream);
    let untrusted = crate::config::TrustedProxies::default();
    let trusted = ctx
        .snap
        .as_ref()
        .map_or(&untrusted, |s| &s.config.live.trusted_proxies);
    headers::add_forwarded(session, upstream, trusted)?;
    if let (Some(id), Some(snap)) = (&ctx.identity, &ctx.snap)
        && let Some(key) = snap.config.authenticator.identity_key()
    {
        // Bound to what this upstream receives: its audience, the method and
        // the (possibly rewritten) path and query.
        let target = upstream.uri.path_and_query().map_or("/", |p| p.as_str());
        let signed = SignedRequest {
            audience: match ctx.side {
                Side::Rust => Audience::Rust,
                Side::Next => Audience::Next,
            },
            method: upstream.method.as_str(),
            target,
        };
        for (name, value) in signed_identity(id, key, &signed, unix_now()) {
            upstream.insert_header(name, value)?;
        }
    }
    Ok(())
}
