//! Large transfers through cutover, alternately every `every`: an upload of
//! 8–32 MiB (fresh bytes each time) to the Next custom server's
//! `POST /uploads/{name}` (pass-through: no route claims it), answered with
//! the byte count and SHA-256 it streamed; and a download of the seeded
//! 32 MiB WhatsApp media file (`GET /api/whatsapp/media/{id}`, a flipped
//! route: next or rust), streamed and hashed. Each is an outcome like any
//! request; bytes that arrive whole but differ are a data violation.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::user;
use crate::record::{Kind, Outcome};
use crate::stack::{MEDIA_BYTES, MEDIA_ID};
use crate::traffic::Ctx;

const MIB: usize = 1024 * 1024;

/// Upload `n`'s size: 8 MiB to 32 MiB, varying.
fn upload_len(n: u64) -> usize {
    8 * MIB + (n as usize * 7 * MIB + n as usize * 4099) % (24 * MIB)
}

/// An error answer's body into `o` (JSON `error`, detail).
async fn error_body(o: &mut Outcome, res: reqwest::Response) {
    let body = res.text().await.unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    o.json_error = v["error"].as_str().map(str::to_owned);
    o.detail = body.chars().take(200).collect();
}

async fn upload(ctx: &Ctx, pool: &[u8], n: u64) {
    let mut body = pool[..upload_len(n)].to_vec();
    body[..8].copy_from_slice(&n.to_be_bytes());
    let (len, sha) = (body.len(), hex::encode(Sha256::digest(&body)));
    let req = ctx
        .client
        .post(ctx.stack.url(&format!("/uploads/soak-{n}")))
        .header("content-type", "application/octet-stream")
        .body(body);
    let (o, text) = ctx.call(Kind::Upload, req).await;
    if o.status != 200 {
        return;
    }
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if v["bytes"].as_u64() != Some(len as u64) || v["sha256"].as_str() != Some(sha.as_str()) {
        ctx.rec.corrupt.lock().expect("lock").push(format!(
            "upload {n} at {:.1}s: sent {len} bytes sha256 {sha}, next got {v}",
            o.start.as_secs_f64()
        ));
    } else {
        ctx.rec.counts.lock().expect("lock").transfer_bytes += len as u64;
    }
}

async fn download(ctx: &Ctx, n: u64) {
    let req = ctx
        .client
        .get(ctx.stack.url(&format!("/api/whatsapp/media/{MEDIA_ID}")));
    let req = ctx.creds.apply(req, &user("u1"));
    let start = ctx.rec.now();
    let mut o = Outcome::started(Kind::Download, start);
    let mut got = None;
    match req.send().await {
        Err(e) => o.detail = format!("{e:?}").chars().take(300).collect(),
        Ok(res) => {
            o.answered(&res);
            if o.status == 200 {
                let (mut len, mut hash) = (0usize, Sha256::new());
                let mut body = res.bytes_stream();
                while let Some(chunk) = body.next().await {
                    match chunk {
                        Ok(c) => {
                            len += c.len();
                            hash.update(&c);
                        }
                        Err(e) => {
                            o.detail = format!("body cut off after {len} bytes: {e}");
                            o.status = 0;
                            break;
                        }
                    }
                }
                got = (o.status == 200).then(|| (len, hex::encode(hash.finalize())));
            } else {
                error_body(&mut o, res).await;
            }
        }
    }
    o.took = ctx.rec.now() - start;
    ctx.rec.push(o.clone());
    let Some((len, sha)) = got else { return };
    if len != MEDIA_BYTES || sha != ctx.stack.media_sha256 {
        ctx.rec.corrupt.lock().expect("lock").push(format!(
            "download {n} at {:.1}s from {}: {len} bytes sha256 {sha}, the file is {MEDIA_BYTES} bytes sha256 {}",
            o.start.as_secs_f64(),
            o.backend,
            ctx.stack.media_sha256
        ));
    } else {
        ctx.rec.counts.lock().expect("lock").transfer_bytes += len as u64;
    }
}

pub async fn transfers(ctx: Arc<Ctx>, every: Duration) {
    let mut pool = vec![0u8; 32 * MIB];
    rand::thread_rng().fill_bytes(&mut pool);
    let mut n = 0u64;
    while !ctx.stopped() {
        if n.is_multiple_of(2) {
            upload(&ctx, &pool, n).await;
        } else {
            download(&ctx, n).await;
        }
        n += 1;
        tokio::time::sleep(every).await;
    }
}
