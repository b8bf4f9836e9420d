//! Where a relayed WebSocket may get a frame of cutover's own: between
//! messages, never inside a frame or between the fragments of a message.
//! Fed the server→client bytes as they are relayed (any chunking, frames of
//! any size, fragmented messages, interleaved control frames).

/// Close code 1012, Service Restart: "reconnect, you will be served".
pub const SERVICE_RESTART: u16 = 1012;

/// An unmasked close frame with `code`, as a server sends it.
pub fn close_frame(code: u16) -> [u8; 4] {
    let [hi, lo] = code.to_be_bytes();
    [0x88, 0x02, hi, lo]
}

/// Frame-boundary tracker for one direction of a WebSocket.
#[derive(Debug, Clone, Default)]
pub struct FrameBoundaries {
    /// Header bytes of the frame being read (at most 14).
    head: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    /// A data message was started with FIN = 0 and is not finished.
    in_message: bool,
    /// The peer sent a close frame: nothing may be injected after it.
    closed: bool,
    /// The bytes are not WebSocket frames: never inject.
    broken: bool,
}

impl FrameBoundaries {
    /// Track `chunk`; the offset just past the last message boundary in it
    /// (`0` when the stream was at one before it and it holds none), or
    /// `None` when there is none (or nothing may be injected any more).
    pub fn feed(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut last = self.at_boundary().then_some(0);
        let mut i = 0;
        while i < chunk.len() && !self.broken {
            if self.payload_left > 0 {
                let take = self.payload_left.min((chunk.len() - i) as u64) as usize;
                self.payload_left -= take as u64;
                i += take;
            } else {
                self.head.push(chunk[i]);
                i += 1;
                self.parse_head();
            }
            if self.at_boundary() {
                last = Some(i);
            }
        }
        if self.broken || self.closed {
            return None;
        }
        last
    }

    /// Between frames and not inside a fragmented message.
    fn at_boundary(&self) -> bool {
        self.head.is_empty()
            && self.payload_left == 0
            && !self.in_message
            && !self.closed
            && !self.broken
    }

    /// Consume `head` once it holds a whole frame header.
    fn parse_head(&mut self) {
        let h = &self.head;
        if h.len() < 2 {
            return;
        }
        let masked = h[1] & 0x80 != 0;
        let len7 = h[1] & 0x7f;
        let ext = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let need = 2 + ext + if masked { 4 } else { 0 };
        if h.len() < need {
            return;
        }
        let len = match ext {
            0 => u64::from(len7),
            2 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            _ => u64::from_be_bytes(h[2..10].try_into().unwrap_or([0xff; 8])),
        };
        let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
        match opcode {
            // Continuation: only inside a message.
            0x0 if self.in_message => self.in_message = !fin,
            // Text or binary: only between messages.
            0x1 | 0x2 if !self.in_message => self.in_message = !fin,
            0x8 if fin && len <= 125 => self.closed = true,
            0x9 | 0xA if fin && len <= 125 => {}
            _ => self.broken = true,
        }
        if len >> 63 != 0 {
            self.broken = true;
        }
        self.payload_left = len;
        self.head.clear();
    }
}

#[cfg(test)]
mod tests;
