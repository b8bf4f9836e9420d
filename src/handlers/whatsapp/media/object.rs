//! Media object names → an open regular file under the media root.
//!
//! A name is checked by the segment rule before the filesystem is touched,
//! then resolved (symlinks included) and must still be under the resolved
//! root. What remains unguarded is a directory inside the root being swapped
//! for a symlink between the check and the open; only the worker writes
//! there.

use std::io;
use std::path::{Path, PathBuf};

use tokio::fs::File;

/// The contract's rule: `/`-separated segments of `[A-Za-z0-9._-]`, none
/// empty, `.` or `..` (so no leading `/`, no `\`, no `//`).
pub fn is_safe_name(name: &str) -> bool {
    name.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}

/// Why a name yields no file.
#[derive(Debug)]
pub enum OpenError {
    /// Unsafe name, missing, outside the root, or not a regular file: 404.
    NotFound,
    /// The root itself or the file could not be read: 500.
    Io(io::Error),
}

/// Opens `root/name` as a regular file and returns it with its size.
pub async fn open(root: &Path, name: &str) -> Result<(File, u64), OpenError> {
    if !is_safe_name(name) {
        return Err(OpenError::NotFound);
    }
    let root = tokio::fs::canonicalize(root).await.map_err(OpenError::Io)?;
    let path = resolve_under(&root, name).await?;
    // Checked before opening too: opening a FIFO would block.
    let meta = tokio::fs::metadata(&path).await.map_err(missing)?;
    if !meta.is_file() {
        return Err(OpenError::NotFound);
    }
    let file = File::open(&path).await.map_err(missing)?;
    let meta = file.metadata().await.map_err(OpenError::Io)?;
    if !meta.is_file() {
        return Err(OpenError::NotFound);
    }
    Ok((file, meta.len()))
}

/// `root/name` with every symlink resolved, if it is strictly under `root`
/// (which is already canonical).
async fn resolve_under(root: &Path, name: &str) -> Result<PathBuf, OpenError> {
    let path = tokio::fs::canonicalize(root.join(name))
        .await
        .map_err(missing)?;
    if path.starts_with(root) && path != root {
        Ok(path)
    } else {
        Err(OpenError::NotFound)
    }
}

/// A path that does not exist (or runs through a file) is a 404; any other
/// failure (permissions, a symlink loop) is an internal error.
fn missing(e: io::Error) -> OpenError {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => OpenError::NotFound,
        _ => OpenError::Io(e),
    }
}
