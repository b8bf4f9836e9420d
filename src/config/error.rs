//! The one config error: where (file and line) and what to do about it.

use std::path::{Path, PathBuf};

/// A config problem, rendered as `file:line: message`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl ConfigError {
    pub fn at(file: &Path, line: usize, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line: Some(line),
            message: message.into(),
        }
    }

    /// An error at the byte offset `pos` of `text`.
    pub fn at_offset(file: &Path, text: &str, pos: usize, message: impl Into<String>) -> Self {
        Self::at(file, line_of(text, pos), message)
    }

    pub fn io(file: &Path, e: &std::io::Error) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line: None,
            message: format!("cannot read: {e}"),
        }
    }

    /// A TOML syntax or shape error, with the parser's position.
    pub fn toml(file: &Path, text: &str, e: &toml::de::Error) -> Self {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        Self::at(file, line, e.message().trim().to_string())
    }
}

/// 1-based line number of byte offset `pos`.
pub fn line_of(text: &str, pos: usize) -> usize {
    let end = pos.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
