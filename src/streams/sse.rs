//! Where an SSE response may be ended: after a blank line (the end of an
//! event, or of a comment block), never inside an event. Fed the body bytes
//! as they are relayed (any chunking); `\n`, `\r\n` and `\r` line ends.

/// Event-boundary tracker for one relayed `text/event-stream` body.
#[derive(Debug, Clone)]
pub struct SseBoundaries {
    /// Bytes in the current line (line ends excluded).
    line_len: usize,
    /// The last byte was a `\r` (a following `\n` belongs to it).
    after_cr: bool,
    /// Everything relayed so far ends at an event boundary.
    at_boundary: bool,
}

impl Default for SseBoundaries {
    fn default() -> Self {
        SseBoundaries {
            line_len: 0,
            after_cr: false,
            at_boundary: true,
        }
    }
}

impl SseBoundaries {
    /// Track `chunk`; the offset just past the last boundary it holds (`0`
    /// when the stream was at a boundary before it and it holds none), or
    /// `None` when no prefix of it ends at a boundary.
    pub fn feed(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut last = self.at_boundary.then_some(0);
        for (i, &b) in chunk.iter().enumerate() {
            let ends_line = match b {
                b'\n' if self.after_cr => {
                    // The `\n` of a `\r\n`: the line already ended at `\r`.
                    self.after_cr = false;
                    if last == Some(i) {
                        last = Some(i + 1);
                    }
                    continue;
                }
                b'\n' => true,
                b'\r' => true,
                _ => false,
            };
            self.after_cr = b == b'\r';
            if ends_line {
                if self.line_len == 0 {
                    last = Some(i + 1);
                }
                self.line_len = 0;
            } else {
                self.line_len += 1;
            }
            self.at_boundary = ends_line && last == Some(i + 1);
        }
        if let Some(l) = last {
            self.at_boundary = l == chunk.len();
        }
        last
    }
}

/// What the client gets last: its reconnect delay, as a field of its own.
pub fn retry_field(ms: u64) -> String {
    format!("retry: {ms}\n\n")
}

#[cfg(test)]
mod tests;
