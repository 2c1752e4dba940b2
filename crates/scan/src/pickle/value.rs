//! Symbolic values of the pickle machine. Immutable and shared (`Rc`), so memo aliasing
//! and DUP cost nothing; containers keep a bounded number of items plus their logical
//! size and nesting depth, which bound memory and expose expansion attacks.

use std::fmt::Write as _;
use std::rc::Rc;

/// Items kept per container (the count beyond is remembered, not the items).
pub(crate) const KEEP_ITEMS: usize = 256;
/// Bytes kept of a string or bytes value.
pub(crate) const KEEP_BYTES: usize = 4096;

/// An imported global.
#[derive(Debug)]
pub(crate) struct Global {
    pub(crate) module: String,
    pub(crate) name: String,
    /// Allowed by policy, and how.
    pub(crate) allowed: Option<crate::policy::Use>,
}

impl Global {
    pub(crate) fn qualname(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

/// How a call was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    Reduce,
    NewObj,
    Inst,
    Obj,
}

/// The (symbolic) result of a call made while loading.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) callee: V,
    pub(crate) args: V,
    pub(crate) offset: u64,
    /// The call was judged acceptable by policy.
    pub(crate) allowed: bool,
}

/// A container: kept items, total count, nesting depth, logical size.
#[derive(Debug, Default)]
pub(crate) struct Seq {
    pub(crate) items: Vec<V>,
    pub(crate) count: u64,
    pub(crate) depth: u32,
    pub(crate) weight: u64,
}

impl Seq {
    pub(crate) fn from_items(items: Vec<V>) -> Self {
        let mut s = Self::default();
        for v in items {
            s.push(v);
        }
        s
    }

    pub(crate) fn push(&mut self, v: V) {
        self.count = self.count.saturating_add(1);
        self.depth = self.depth.max(v.depth().saturating_add(1));
        self.weight = self.weight.saturating_add(v.weight());
        if self.items.len() < KEEP_ITEMS {
            self.items.push(v);
        }
    }

    fn copy(&self) -> Self {
        Self {
            items: self.items.clone(),
            count: self.count,
            depth: self.depth,
            weight: self.weight,
        }
    }
}

/// A symbolic value.
#[derive(Clone, Debug)]
pub(crate) enum V {
    None,
    Bool(bool),
    Int(i128),
    BigInt(u64),
    Float(f64),
    Str(Rc<str>, u64),
    Bytes(Rc<[u8]>, u64),
    Tuple(Rc<Seq>),
    List(Rc<Seq>),
    Dict(Rc<Seq>),
    Set(Rc<Seq>),
    Global(Rc<Global>),
    Call(Rc<Call>),
    Persistent(Rc<V>),
    Ext(u32),
}

impl V {
    pub(crate) fn depth(&self) -> u32 {
        match self {
            Self::Tuple(s) | Self::List(s) | Self::Dict(s) | Self::Set(s) => s.depth,
            Self::Call(_) | Self::Persistent(_) => 1,
            _ => 0,
        }
    }

    pub(crate) fn weight(&self) -> u64 {
        match self {
            Self::Tuple(s) | Self::List(s) | Self::Dict(s) | Self::Set(s) => {
                s.weight.saturating_add(1)
            }
            _ => 1,
        }
    }

    pub(crate) fn str(&self) -> Option<&str> {
        match self {
            Self::Str(s, _) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn items(&self) -> &[V] {
        match self {
            Self::Tuple(s) | Self::List(s) | Self::Dict(s) | Self::Set(s) => &s.items,
            _ => &[],
        }
    }

    /// Adds an item to a container value (copy-on-write when shared).
    pub(crate) fn push_into(&mut self, v: V) -> bool {
        let seq = match self {
            Self::List(s) | Self::Dict(s) | Self::Set(s) => s,
            _ => return false,
        };
        if let Some(s) = Rc::get_mut(seq) {
            s.push(v);
        } else {
            let mut s = seq.copy();
            s.push(v);
            *seq = Rc::new(s);
        }
        true
    }

    pub(crate) fn global(&self) -> Option<&Global> {
        match self {
            Self::Global(g) => Some(g),
            _ => None,
        }
    }

    /// Looks up a string key in a dict value (as BUILD state or kwargs).
    pub(crate) fn dict_get(&self, key: &str) -> Option<&V> {
        let Self::Dict(d) = self else { return None };
        d.items.chunks(2).find_map(|kv| match kv {
            [k, v] if k.str() == Some(key) => Some(v),
            _ => None,
        })
    }

    /// Renders the value like Python source, bounded.
    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        self.render_into(&mut s, 0);
        if s.len() > 300 {
            let mut cut = 300;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push('…');
        }
        s
    }

    fn render_into(&self, out: &mut String, depth: u32) {
        if depth > 6 || out.len() > 400 {
            out.push('…');
            return;
        }
        match self {
            Self::None => out.push_str("None"),
            Self::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Self::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Self::BigInt(n) => {
                let _ = write!(out, "<int of {n} bytes>");
            }
            Self::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Self::Str(s, n) => {
                let _ = write!(out, "{:?}", s.chars().take(120).collect::<String>());
                if *n > 120 {
                    let _ = write!(out, "…({n} chars)");
                }
            }
            Self::Bytes(b, n) => {
                let head: String = b
                    .iter()
                    .take(32)
                    .flat_map(|c| std::ascii::escape_default(*c))
                    .map(char::from)
                    .collect();
                let _ = write!(out, "b'{head}'");
                if *n > 32 {
                    let _ = write!(out, "…({n} bytes)");
                }
            }
            Self::Tuple(s) => render_seq(out, "(", ")", s, depth, false),
            Self::List(s) => render_seq(out, "[", "]", s, depth, false),
            Self::Set(s) => render_seq(out, "{", "}", s, depth, false),
            Self::Dict(s) => render_seq(out, "{", "}", s, depth, true),
            Self::Global(g) => out.push_str(&g.qualname()),
            Self::Call(c) => {
                c.callee.render_into(out, depth + 1);
                match &c.args {
                    V::Tuple(s) => render_seq(out, "(", ")", s, depth + 1, false),
                    other => {
                        out.push_str("(*");
                        other.render_into(out, depth + 1);
                        out.push(')');
                    }
                }
            }
            Self::Persistent(p) => {
                out.push_str("persistent_load(");
                p.render_into(out, depth + 1);
                out.push(')');
            }
            Self::Ext(c) => {
                let _ = write!(out, "<extension {c}>");
            }
        }
    }
}

fn render_seq(out: &mut String, open: &str, close: &str, s: &Seq, depth: u32, dict: bool) {
    out.push_str(open);
    for (i, v) in s.items.iter().enumerate().take(16) {
        if i > 0 {
            out.push_str(if dict && i % 2 == 1 { ": " } else { ", " });
        }
        v.render_into(out, depth + 1);
    }
    if s.count as usize > s.items.len().min(16) {
        out.push_str(", …");
    }
    out.push_str(close);
}
