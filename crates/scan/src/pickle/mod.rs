//! Pickle streams: sniffing (protocols 0–5, no magic for 0–1) and stacked pickles
//! (PyTorch legacy files hold five in a row, then raw storages).

mod decode;
mod judge;
mod machine;
mod value;

pub(crate) use decode::numpy_itemsize;

use crate::ctx::Ctx;
use crate::io::Input;
use crate::report::{Rule, Severity};
use machine::Machine;
use value::V;

/// PyTorch's legacy-format magic number (first pickle of a `torch.save` legacy file).
const TORCH_MAGIC: i128 = 0x1950a86a20f9469cfc6c;

/// Opcodes valid as the first byte of a pickle.
fn plausible_start(b: u8) -> bool {
    matches!(
        b,
        0x80 | b'('
            | b'c'
            | b'}'
            | b']'
            | b')'
            | b'N'
            | b'I'
            | b'L'
            | b'S'
            | b'V'
            | b'X'
            | b'U'
            | b'T'
            | b'J'
            | b'K'
            | b'M'
            | b'F'
            | b'G'
            | b'P'
            | b'i'
            | b'd'
            | b'l'
            | b'B'
            | b'C'
            | 0x88
            | 0x89
            | 0x8a
            | 0x8b
            | 0x8c
            | 0x8d
            | 0x8e
            | 0x8f
            | 0x95
            | 0x96
            | 0x82
            | 0x83
            | 0x84
    )
}

/// Whether a prefix looks like a pickle: PROTO, or a protocol 0/1 opcode stream that
/// decodes without error up to STOP, an import, or the end of the prefix.
pub(crate) fn sniff(prefix: &[u8]) -> bool {
    match prefix {
        [0x80, p, next, ..] => {
            *p <= 5 && (plausible_start(*next) || *next == 0x93 || *next == b'.')
        }
        [first, ..] if plausible_start(*first) => trial(prefix),
        _ => false,
    }
}

/// Decodes opcodes (structure only) over a prefix.
fn trial(p: &[u8]) -> bool {
    let mut i = 0usize;
    let mut n = 0;
    let mut marks = 0u32;
    let line = |i: usize| {
        p.get(i..)
            .and_then(|r| r.iter().position(|&c| c == b'\n'))
            .map(|e| i + e + 1)
    };
    while let Some(&op) = p.get(i) {
        n += 1;
        i += 1;
        if matches!(op, b'(') {
            marks += 1;
        }
        if matches!(
            op,
            b'l' | b't' | b'd' | b'u' | b'e' | b'o' | b'1' | b'i' | 0x90 | 0x91
        ) {
            if marks == 0 {
                return false;
            }
            marks -= 1;
        }
        let next = match op {
            b'.' => return n > 1,
            b'c' | b'i' => {
                let Some(a) = line(i) else {
                    return p.len() >= 4096;
                };
                let ok = p.get(i..a - 1).is_some_and(|m| {
                    !m.is_empty()
                        && m.iter()
                            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
                });
                return ok && line(a).is_some();
            }
            b'('
            | b'0'
            | b'1'
            | b'2'
            | b'N'
            | b'R'
            | b'a'
            | b'b'
            | b'd'
            | b'}'
            | b'e'
            | b'l'
            | b']'
            | b'o'
            | b's'
            | b't'
            | b')'
            | b'u'
            | b'Q'
            | 0x85..=0x89
            | 0x8f..=0x94 => Some(i),
            b'I' | b'L' | b'F' | b'g' | b'p' => {
                let Some(e) = line(i) else { return false };
                let body = p.get(i..e - 1).unwrap_or_default();
                let numeric = !body.is_empty()
                    && body.iter().all(|c| {
                        c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'L' | b'e' | b'E')
                    });
                if !numeric {
                    return false;
                }
                Some(e)
            }
            b'S' => {
                let Some(e) = line(i) else { return false };
                let body = p.get(i..e - 1).unwrap_or_default();
                if !(body.len() >= 2
                    && matches!(body.first(), Some(b'\'' | b'"'))
                    && body.first() == body.last())
                {
                    return false;
                }
                Some(e)
            }
            b'V' | b'P' => line(i),
            b'K' | b'h' | b'q' | 0x82 => Some(i + 1),
            b'M' | 0x83 => Some(i + 2),
            b'J' | b'j' | b'r' | 0x84 => Some(i + 4),
            b'G' | 0x95 => Some(i + 8),
            b'U' | b'C' | 0x8c | 0x8a => p.get(i).map(|&l| i + 1 + usize::from(l)),
            b'T' | b'X' | b'B' => crate::io::le_u32(p, i).map(|l| i + 4 + l as usize),
            _ => return false,
        };
        match next {
            Some(x) if x <= p.len() => i = x,
            _ => return n > 2,
        }
        if n > 64 {
            return true;
        }
    }
    n > 2
}

/// Scans a stream of one or more pickles. Parse errors become "unverified" findings.
pub(crate) fn scan_stream(inp: &mut Input<'_>, ctx: &mut Ctx<'_>, member: &str) {
    let mut count = 0u32;
    let mut torch_legacy = false;
    loop {
        let start = inp.pos();
        let outcome = Machine::new(ctx, member, 0).run(inp);
        match outcome {
            Ok(v) => {
                count += 1;
                if count == 1 && matches!(v, V::Int(TORCH_MAGIC)) {
                    torch_legacy = true;
                }
            }
            Err(e) => {
                if count == 0 || torch_legacy {
                    ctx.add(
                        Rule::Unverified,
                        Severity::Unverified,
                        member,
                        Some(start),
                        format!("pickle could not be fully checked: {e}"),
                    );
                } else {
                    ctx.add(Rule::PickleStructure, Severity::Info, member, Some(start), format!("data after the pickle is not a pickle ({e}); pickle.load stops before it"));
                }
                return;
            }
        }
        if torch_legacy && count == 5 {
            return; // then raw storages, which torch reads as bytes
        }
        match inp.peek() {
            Ok(Some(b)) if plausible_start(b) => {}
            Ok(None) => return,
            Ok(Some(_)) => {
                if !torch_legacy {
                    ctx.add(
                        Rule::PickleStructure,
                        Severity::Info,
                        member,
                        Some(inp.pos()),
                        "trailing bytes after STOP (not read by pickle.load)".into(),
                    );
                    return;
                }
            }
            Err(e) => {
                ctx.add(
                    Rule::Unverified,
                    Severity::Unverified,
                    member,
                    Some(inp.pos()),
                    format!("read error: {e}"),
                );
                return;
            }
        }
        if count >= ctx.limits.max_pickles {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                member,
                Some(inp.pos()),
                "too many stacked pickles".into(),
            );
            return;
        }
        if count == 1 && !torch_legacy {
            ctx.add(
                Rule::PickleStructure,
                Severity::Info,
                member,
                Some(inp.pos()),
                "stacked pickles: another pickle follows STOP".into(),
            );
        }
    }
}
