//! Unsigned integers as decimal ASCII without `core::fmt`, for what every
//! request writes: the identity signature's timestamp, the access line's
//! numbers (a formatter call per number was measurable there).

/// `n` in decimal, written at the end of `buf` (20 digits hold any `u64`);
/// returns the digits.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn matches_display() {
        for n in [0, 7, 10, 99, 1_000, 1_764_547_200, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }
}
