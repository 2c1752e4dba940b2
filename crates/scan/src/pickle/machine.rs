//! The symbolic pickle machine: every opcode of protocols 0–5, with CPython's stack,
//! mark-fence and memo semantics, but calls produce symbolic results instead of running.
//! Every import and call loading would perform is judged against the [`crate::policy`].

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::decode::{decode_long, escape_decode, parse_int_line, raw_unicode_escape};
use super::value::{CallKind, Global, KEEP_BYTES, Seq, V};
use crate::ctx::Ctx;
use crate::error::{Result, ScanError};
use crate::io::Input;
use crate::report::{Rule, Severity};

const MAX_LINE: usize = 1 << 20;

/// One pickle (up to its STOP) being emulated.
pub(crate) struct Machine<'c, 'p> {
    pub(super) ctx: &'c mut Ctx<'p>,
    pub(super) member: &'c str,
    stack: Vec<V>,
    marks: Vec<usize>,
    memo: HashMap<u64, V>,
    pub(super) proto: u8,
    ops: u64,
    pub(super) nested: u32,
    pub(super) reported: HashSet<String>,
}

pub(super) fn err(off: u64, msg: impl std::fmt::Display) -> ScanError {
    ScanError::malformed("pickle", format!("offset {off}: {msg}"))
}

pub(super) fn seq(items: Vec<V>) -> Rc<Seq> {
    Rc::new(Seq::from_items(items))
}

fn text(bytes: &[u8], total: u64) -> V {
    V::Str(Rc::from(String::from_utf8_lossy(bytes).as_ref()), total)
}

impl<'c, 'p> Machine<'c, 'p> {
    pub(crate) fn new(ctx: &'c mut Ctx<'p>, member: &'c str, nested: u32) -> Self {
        Self {
            ctx,
            member,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            proto: 0,
            ops: 0,
            nested,
            reported: HashSet::new(),
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: V, off: u64) -> Result<()> {
        if self.stack.len() >= self.ctx.limits.max_stack {
            return Err(ScanError::Limit(format!(
                "pickle stack over {} items at offset {off}",
                self.ctx.limits.max_stack
            )));
        }
        if v.depth() > self.ctx.limits.max_value_depth {
            return Err(ScanError::Limit(format!(
                "pickle value nesting over {} at offset {off}",
                self.ctx.limits.max_value_depth
            )));
        }
        if v.weight() > 1_000_000_000 {
            self.note(Rule::PickleStructure, Severity::Suspicious, off, "resource expansion: a value whose loaded size exceeds 10^9 objects (memo/DUP amplification)".into());
            return Err(ScanError::Limit(format!(
                "expansion attack at offset {off}"
            )));
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self, off: u64) -> Result<V> {
        if self.stack.len() <= self.fence() {
            return Err(err(off, "stack underflow"));
        }
        self.stack.pop().ok_or_else(|| err(off, "stack underflow"))
    }

    fn top(&mut self, off: u64) -> Result<&mut V> {
        let fence = self.fence();
        if self.stack.len() <= fence {
            return Err(err(off, "stack underflow"));
        }
        self.stack
            .last_mut()
            .ok_or_else(|| err(off, "stack underflow"))
    }

    fn pop_mark(&mut self, off: u64) -> Result<Vec<V>> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| err(off, "no MARK on the stack"))?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    pub(super) fn note(
        &mut self,
        rule: Rule,
        sev: Severity,
        off: u64,
        msg: String,
    ) -> &mut crate::report::Finding {
        self.ctx.add(rule, sev, self.member, Some(off), msg)
    }

    fn memo_put(&mut self, key: u64, off: u64) -> Result<()> {
        let v = self.top(off)?.clone();
        if self.memo.len() >= self.ctx.limits.max_memo && !self.memo.contains_key(&key) {
            return Err(ScanError::Limit(format!(
                "pickle memo over {} entries",
                self.ctx.limits.max_memo
            )));
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u64, off: u64) -> Result<()> {
        let v = self
            .memo
            .get(&key)
            .cloned()
            .ok_or_else(|| err(off, format!("memo key {key} missing")))?;
        self.push(v, off)
    }

    /// Runs up to STOP; returns the loaded (symbolic) value.
    pub(crate) fn run(&mut self, inp: &mut Input<'_>) -> Result<V> {
        let start = inp.pos();
        loop {
            let off = inp.pos();
            let Some(op) = inp.byte()? else {
                return Err(err(off, "ended without STOP"));
            };
            self.ops += 1;
            if self.ops > self.ctx.limits.max_opcodes {
                return Err(ScanError::Limit(format!(
                    "more than {} pickle opcodes",
                    self.ctx.limits.max_opcodes
                )));
            }
            match op {
                b'.' => {
                    let v = self.pop(off)?;
                    for left in std::mem::take(&mut self.stack) {
                        self.discarded(&left, off);
                    }
                    return Ok(v);
                }
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        let v = self.pop(off)?;
                        self.discarded(&v, off);
                    }
                }
                b'1' => {
                    for v in self.pop_mark(off)? {
                        self.discarded(&v, off);
                    }
                }
                b'2' => {
                    let v = self.top(off)?.clone();
                    self.push(v, off)?;
                }
                0x80 => {
                    let [p] = inp.exact::<1>()?;
                    if p > 5 {
                        return Err(err(off, format!("unsupported protocol {p}")));
                    }
                    if off != start {
                        self.note(
                            Rule::PickleStructure,
                            Severity::Info,
                            off,
                            format!("PROTO {p} not at the start of the pickle"),
                        );
                    }
                    self.proto = p;
                }
                0x95 => {
                    let n = u64::from_le_bytes(inp.exact::<8>()?);
                    if n > self.ctx.limits.max_string.max(1 << 30) {
                        return Err(err(off, format!("frame of {n} bytes")));
                    }
                }
                b'N' => self.push(V::None, off)?,
                0x88 => self.push(V::Bool(true), off)?,
                0x89 => self.push(V::Bool(false), off)?,
                b'I' => {
                    let line = inp.line(MAX_LINE)?;
                    let v = match line.as_slice() {
                        b"00" => V::Bool(false),
                        b"01" => V::Bool(true),
                        l => V::Int(parse_int_line(l).ok_or_else(|| err(off, "invalid INT"))?),
                    };
                    self.push(v, off)?;
                }
                b'L' => {
                    let line = inp.line(MAX_LINE)?;
                    let v = parse_int_line(&line).map_or(V::BigInt(line.len() as u64), V::Int);
                    self.push(v, off)?;
                }
                b'J' => self.push(
                    V::Int(i128::from(i32::from_le_bytes(inp.exact::<4>()?))),
                    off,
                )?,
                b'K' => self.push(V::Int(i128::from(inp.exact::<1>()?[0])), off)?,
                b'M' => self.push(
                    V::Int(i128::from(u16::from_le_bytes(inp.exact::<2>()?))),
                    off,
                )?,
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        u64::from(inp.exact::<1>()?[0])
                    } else {
                        let n = i32::from_le_bytes(inp.exact::<4>()?);
                        u64::try_from(n).map_err(|_| err(off, "negative LONG4 length"))?
                    };
                    let b = inp.bytes(n, 17)?;
                    self.push(decode_long(&b).map_or(V::BigInt(n), V::Int), off)?;
                }
                b'F' => {
                    let line = inp.line(MAX_LINE)?;
                    let f = std::str::from_utf8(&line)
                        .ok()
                        .and_then(|s| s.trim().parse::<f64>().ok())
                        .unwrap_or(f64::NAN);
                    self.push(V::Float(f), off)?;
                }
                b'G' => self.push(V::Float(f64::from_be_bytes(inp.exact::<8>()?)), off)?,
                b'S' => {
                    let line = inp.line(MAX_LINE.max(self.ctx.limits.max_string as usize))?;
                    let inner = match line.as_slice() {
                        [q, inner @ .., q2] if q == q2 && (*q == b'\'' || *q == b'"') => inner,
                        _ => return Err(err(off, "STRING argument must be quoted")),
                    };
                    let d = escape_decode(inner);
                    self.push(
                        text(
                            d.get(..KEEP_BYTES.min(d.len())).unwrap_or_default(),
                            d.len() as u64,
                        ),
                        off,
                    )?;
                }
                b'V' => {
                    let line = inp.line(MAX_LINE.max(self.ctx.limits.max_string as usize))?;
                    let s = raw_unicode_escape(&line);
                    let n = s.chars().count() as u64;
                    let kept: String = s.chars().take(KEEP_BYTES).collect();
                    self.push(V::Str(Rc::from(kept.as_str()), n), off)?;
                }
                b'T' | b'U' | b'X' | 0x8c | 0x8d | b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'U' | b'C' | 0x8c => u64::from(inp.exact::<1>()?[0]),
                        b'T' => u64::try_from(i32::from_le_bytes(inp.exact::<4>()?))
                            .map_err(|_| err(off, "negative BINSTRING length"))?,
                        b'X' | b'B' => u64::from(u32::from_le_bytes(inp.exact::<4>()?)),
                        _ => u64::from_le_bytes(inp.exact::<8>()?),
                    };
                    let b = inp.bytes(n, KEEP_BYTES)?;
                    let v = match op {
                        b'B' | b'C' | 0x8e | 0x96 => V::Bytes(Rc::from(b.as_slice()), n),
                        _ => text(&b, n),
                    };
                    self.push(v, off)?;
                }
                b')' => self.push(V::Tuple(seq(Vec::new())), off)?,
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop(off)?);
                    }
                    items.reverse();
                    self.push(V::Tuple(seq(items)), off)?;
                }
                b't' => {
                    let items = self.pop_mark(off)?;
                    self.push(V::Tuple(seq(items)), off)?;
                }
                b']' => self.push(V::List(seq(Vec::new())), off)?,
                b'l' => {
                    let items = self.pop_mark(off)?;
                    self.push(V::List(seq(items)), off)?;
                }
                b'}' => self.push(V::Dict(seq(Vec::new())), off)?,
                b'd' => {
                    let items = self.pop_mark(off)?;
                    if items.len() % 2 != 0 {
                        return Err(err(off, "odd number of items for DICT"));
                    }
                    self.push(V::Dict(seq(items)), off)?;
                }
                0x8f => self.push(V::Set(seq(Vec::new())), off)?,
                0x91 => {
                    let items = self.pop_mark(off)?;
                    self.push(V::Set(seq(items)), off)?;
                }
                b'a' | b'e' | b's' | b'u' | 0x90 => {
                    let items = match op {
                        b'a' => vec![self.pop(off)?],
                        b's' => {
                            let v = self.pop(off)?;
                            let k = self.pop(off)?;
                            vec![k, v]
                        }
                        _ => self.pop_mark(off)?,
                    };
                    if op == b'u' && items.len() % 2 != 0 {
                        return Err(err(off, "odd number of items for SETITEMS"));
                    }
                    let target = self.top(off)?;
                    let is_global = matches!(target, V::Global(_));
                    if !is_global {
                        for v in items {
                            target.push_into(v);
                        }
                    } else {
                        let t = target.clone();
                        let what = match op {
                            b'a' | b'e' => "APPEND",
                            0x90 => "ADDITEMS",
                            _ => "SETITEM",
                        };
                        self.mutate(&t, what, off);
                    }
                    let w = self.top(off)?.clone();
                    if w.depth() > self.ctx.limits.max_value_depth {
                        return Err(ScanError::Limit(format!(
                            "pickle value nesting at offset {off}"
                        )));
                    }
                }
                b'p' => {
                    let line = inp.line(64)?;
                    let k = parse_int_line(&line)
                        .and_then(|k| u64::try_from(k).ok())
                        .ok_or_else(|| err(off, "invalid PUT index"))?;
                    self.memo_put(k, off)?;
                }
                b'q' => {
                    let k = u64::from(inp.exact::<1>()?[0]);
                    self.memo_put(k, off)?;
                }
                b'r' => {
                    let k = u64::from(u32::from_le_bytes(inp.exact::<4>()?));
                    self.memo_put(k, off)?;
                }
                0x94 => {
                    let k = self.memo.len() as u64;
                    self.memo_put(k, off)?;
                }
                b'g' => {
                    let line = inp.line(64)?;
                    let k = parse_int_line(&line)
                        .and_then(|k| u64::try_from(k).ok())
                        .ok_or_else(|| err(off, "invalid GET index"))?;
                    self.memo_get(k, off)?;
                }
                b'h' => {
                    let k = u64::from(inp.exact::<1>()?[0]);
                    self.memo_get(k, off)?;
                }
                b'j' => {
                    let k = u64::from(u32::from_le_bytes(inp.exact::<4>()?));
                    self.memo_get(k, off)?;
                }
                b'c' | b'i' => {
                    let module = String::from_utf8_lossy(&inp.line(MAX_LINE)?).into_owned();
                    let name = String::from_utf8_lossy(&inp.line(MAX_LINE)?).into_owned();
                    let g = self.import(&module, &name, off);
                    if op == b'c' {
                        self.push(g, off)?;
                    } else {
                        let args = self.pop_mark(off)?;
                        let v = self.call(g, V::Tuple(seq(args)), CallKind::Inst, off);
                        self.push(v, off)?;
                    }
                }
                0x93 => {
                    let name = self.pop(off)?;
                    let module = self.pop(off)?;
                    match (&module, &name) {
                        (V::Str(m, mn), V::Str(n, nn)) => {
                            if *mn > m.chars().count() as u64 || *nn > n.chars().count() as u64 {
                                self.note(
                                    Rule::PickleNotAllowed,
                                    Severity::Suspicious,
                                    off,
                                    "STACK_GLOBAL with an oversized module or name".into(),
                                );
                            }
                            let g = self.import(&m.clone(), &n.clone(), off);
                            self.push(g, off)?;
                        }
                        (
                            V::Str(..) | V::Call(_) | V::Persistent(_) | V::Ext(_) | V::Global(_),
                            V::Str(..) | V::Call(_) | V::Persistent(_) | V::Ext(_) | V::Global(_),
                        ) => {
                            let (m, n) = (module.render(), name.render());
                            self.note(
                                Rule::PickleComputedImport,
                                Severity::Dangerous,
                                off,
                                format!(
                                    "STACK_GLOBAL imports a computed target: module={m}, name={n}"
                                ),
                            );
                            self.push(
                                V::Global(Rc::new(Global {
                                    module: m,
                                    name: n,
                                    allowed: None,
                                })),
                                off,
                            )?;
                        }
                        _ => return Err(err(off, "STACK_GLOBAL requires str")),
                    }
                }
                b'R' => {
                    let args = self.pop(off)?;
                    let f = self.pop(off)?;
                    let v = self.call(f, args, CallKind::Reduce, off);
                    self.push(v, off)?;
                }
                0x81 => {
                    let args = self.pop(off)?;
                    let cls = self.pop(off)?;
                    let v = self.call(cls, args, CallKind::NewObj, off);
                    self.push(v, off)?;
                }
                0x92 => {
                    let kwargs = self.pop(off)?;
                    let args = self.pop(off)?;
                    let cls = self.pop(off)?;
                    let mut all = args.items().to_vec();
                    if !kwargs.items().is_empty() {
                        all.push(kwargs);
                    }
                    let v = self.call(cls, V::Tuple(seq(all)), CallKind::NewObj, off);
                    self.push(v, off)?;
                }
                b'o' => {
                    let mut items = self.pop_mark(off)?;
                    if items.is_empty() {
                        return Err(err(off, "OBJ without a class"));
                    }
                    let cls = items.remove(0);
                    let v = self.call(cls, V::Tuple(seq(items)), CallKind::Obj, off);
                    self.push(v, off)?;
                }
                b'b' => {
                    let state = self.pop(off)?;
                    let inst = self.top(off)?.clone();
                    match &inst {
                        V::Global(_) => self.mutate(&inst, "BUILD", off),
                        V::Call(c)
                            if c.callee.global().is_some_and(|g| {
                                g.qualname() == "joblib.numpy_pickle.NumpyArrayWrapper"
                            }) =>
                        {
                            self.joblib_array(inp, &state, off)?;
                        }
                        _ => {}
                    }
                }
                b'P' => {
                    let line = inp.line(MAX_LINE)?;
                    let v = self.persistent(text(&line, line.len() as u64), off);
                    self.push(v, off)?;
                }
                b'Q' => {
                    let pid = self.pop(off)?;
                    let v = self.persistent(pid, off);
                    self.push(v, off)?;
                }
                0x82..=0x84 => {
                    let code = match op {
                        0x82 => u32::from(inp.exact::<1>()?[0]),
                        0x83 => u32::from(u16::from_le_bytes(inp.exact::<2>()?)),
                        _ => i32::from_le_bytes(inp.exact::<4>()?).unsigned_abs(),
                    };
                    self.note(
                        Rule::PickleExtension,
                        Severity::Suspicious,
                        off,
                        format!(
                            "EXT code {code} resolves a global through copyreg's extension registry"
                        ),
                    );
                    self.push(V::Ext(code), off)?;
                }
                0x97 => {
                    return Err(err(
                        off,
                        "NEXT_BUFFER: out-of-band buffers are not available to a loader",
                    ));
                }
                0x98 => {
                    self.top(off)?;
                }
                other => return Err(err(off, format!("invalid opcode 0x{other:02x}"))),
            }
        }
    }
}
