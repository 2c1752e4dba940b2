//! Decoding of pickle operands: protocol-0 quoted strings, raw-unicode-escape, longs.

/// Python's `codecs.escape_decode` (used by the STRING opcode), lenient on unknown escapes.
pub(crate) fn escape_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&n) = s.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        match n {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(n),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(n - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = s.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out
}

/// Python's `raw-unicode-escape` decoding (UNICODE opcode).
pub(crate) fn raw_unicode_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b'\\' {
            let width = match s.get(i + 1) {
                Some(b'u') => 4,
                Some(b'U') => 8,
                _ => 0,
            };
            if width > 0
                && let Some(h) = s.get(i + 2..i + 2 + width)
                && let Ok(h) = std::str::from_utf8(h)
                && let Ok(v) = u32::from_str_radix(h, 16)
            {
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                i += 2 + width;
                continue;
            }
        }
        out.push(char::from(c));
        i += 1;
    }
    out
}

/// Decodes a little-endian two's-complement long (LONG1/LONG4): `Some` when it fits i128.
pub(crate) fn decode_long(b: &[u8]) -> Option<i128> {
    if b.is_empty() {
        return Some(0);
    }
    if b.len() > 16 {
        return None;
    }
    let neg = b.last().is_some_and(|&x| x & 0x80 != 0);
    let mut buf = if neg { [0xffu8; 16] } else { [0u8; 16] };
    buf.get_mut(..b.len())?.copy_from_slice(b);
    Some(i128::from_le_bytes(buf))
}

/// Parses the text of INT / LONG opcodes (`int(x, 0)` subset).
pub(crate) fn parse_int_line(line: &[u8]) -> Option<i128> {
    let s = std::str::from_utf8(line)
        .ok()?
        .trim()
        .trim_end_matches('L')
        .replace('_', "");
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        i128::from_str_radix(o, 8).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Item size of a NumPy dtype string such as `<f8`, `|u1`, `<U10`: `None` for object
/// dtypes or anything not understood.
pub(crate) fn numpy_itemsize(descr: &str) -> Option<u64> {
    let d = descr.trim_start_matches(['<', '>', '|', '=']);
    let split = d.find(|c: char| c.is_ascii_digit()).unwrap_or(d.len());
    let (kind, digits) = d.split_at(split);
    let n: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    match kind {
        "b" | "i" | "u" | "f" | "c" | "S" | "V" | "a" | "M8" | "m8" | "M" | "m" => Some(n),
        "U" => n.checked_mul(4),
        "?" | "b1" => Some(1),
        _ => match d {
            "bool" | "int8" | "uint8" => Some(1),
            "float16" | "int16" | "uint16" => Some(2),
            "float32" | "int32" | "uint32" => Some(4),
            "float64" | "int64" | "uint64" | "complex64" => Some(8),
            "complex128" => Some(16),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders() {
        assert_eq!(escape_decode(br"o\x73\n\'\101"), b"os\n'A");
        assert_eq!(raw_unicode_escape(br"sy\u0073tem"), "system");
        assert_eq!(decode_long(&[0xff]), Some(-1));
        assert_eq!(
            decode_long(&[0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]),
            Some(0x1950a86a20f9469cfc6c)
        );
        assert_eq!(parse_int_line(b"-12L"), Some(-12));
        assert_eq!(numpy_itemsize("<f8"), Some(8));
        assert_eq!(numpy_itemsize("<U3"), Some(12));
        assert_eq!(numpy_itemsize("|O"), None);
    }
}
