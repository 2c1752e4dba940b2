//! Judgement of what the pickle machine meets: imports, calls, writes into imported
//! objects, persistent ids, discarded results, and joblib's inline arrays.

use std::rc::Rc;

use super::decode::numpy_itemsize;
use super::machine::{Machine, err};
use super::value::{Call, CallKind, Global, V};
use crate::error::{Result, ScanError};
use crate::io::Input;
use crate::policy::{Class, Use, py2_module};
use crate::report::{Rule, Severity};

impl Machine<'_, '_> {
    /// `find_class(module, name)`: judged by policy, reported once per pickle.
    pub(super) fn import(&mut self, module: &str, name: &str, off: u64) -> V {
        let module = if self.proto < 3 {
            py2_module(module)
        } else {
            module
        };
        let class = self.ctx.policy.classify(module, name);
        let qual = format!("{module}.{name}");
        let allowed = match &class {
            Class::Allowed { how, .. } => Some(*how),
            _ => None,
        };
        if allowed.is_none() && self.reported.insert(qual.clone()) {
            let (rule, sev, why) = match &class {
                Class::Dangerous(why) => (Rule::PickleDangerousImport, Severity::Dangerous, *why),
                _ => (
                    Rule::PickleNotAllowed,
                    Severity::Suspicious,
                    "not on the allow-list",
                ),
            };
            let f = self.note(rule, sev, off, format!("imports {qual} ({why})"));
            f.global = Some(qual);
        }
        V::Global(Rc::new(Global {
            module: module.to_owned(),
            name: name.to_owned(),
            allowed,
        }))
    }

    fn is_type_ok(v: Option<&V>) -> bool {
        v.and_then(V::global)
            .is_some_and(|g| matches!(g.allowed, Some(Use::Type | Use::Call)))
    }

    /// A call loading would make: judged, reported when outside the policy.
    pub(super) fn call(&mut self, callee: V, args: V, kind: CallKind, off: u64) -> V {
        let allowed = match &callee {
            V::Global(g) => {
                let a = args.items();
                match (g.module.as_str(), g.name.as_str(), g.allowed) {
                    ("copyreg", "_reconstructor", Some(_)) => {
                        Self::is_type_ok(a.first())
                            && a.get(1).and_then(V::global).is_some_and(|b| {
                                b.qualname() == "builtins.object"
                                    || matches!(b.allowed, Some(Use::Type | Use::Call))
                            })
                    }
                    ("copyreg", "__newobj__" | "__newobj_ex__", Some(_)) => {
                        Self::is_type_ok(a.first())
                    }
                    ("torch._tensor", "_rebuild_from_type_v2", Some(_)) => {
                        a.first()
                            .and_then(V::global)
                            .is_some_and(|f| f.allowed == Some(Use::Call))
                            && a.get(1).is_some_and(|t| t.global().is_some())
                    }
                    (_, _, Some(Use::Call)) => true,
                    (_, _, Some(Use::Type)) => kind == CallKind::NewObj || args.items().is_empty(),
                    _ => false,
                }
            }
            _ => false,
        };
        if !allowed {
            let rendered = V::Call(Rc::new(Call {
                callee: callee.clone(),
                args: args.clone(),
                offset: off,
                allowed,
            }))
            .render();
            let how = match kind {
                CallKind::Reduce => "REDUCE",
                CallKind::NewObj => "NEWOBJ",
                CallKind::Inst => "INST",
                CallKind::Obj => "OBJ",
            };
            match &callee {
                V::Global(g) => {
                    let class = self.ctx.policy.classify(&g.module, &g.name);
                    let (rule, sev, why) = match class {
                        Class::Dangerous(why) => {
                            (Rule::PickleDangerousImport, Severity::Dangerous, why)
                        }
                        Class::Allowed { .. } => (
                            Rule::PickleNotAllowed,
                            Severity::Suspicious,
                            "allowed only as a reference/type, called with arguments",
                        ),
                        Class::NotAllowed => (
                            Rule::PickleNotAllowed,
                            Severity::Suspicious,
                            "not on the allow-list",
                        ),
                    };
                    let qual = g.qualname();
                    let f = self.note(
                        rule,
                        sev,
                        off,
                        format!("{how} would call {rendered} ({why})"),
                    );
                    f.global = Some(qual);
                    f.call = Some(rendered);
                }
                _ => {
                    let f = self.note(
                        Rule::PickleDynamicCall,
                        Severity::Dangerous,
                        off,
                        format!("{how} would call a value computed while loading: {rendered}"),
                    );
                    f.call = Some(rendered);
                }
            }
        }
        V::Call(Rc::new(Call {
            callee,
            args,
            offset: off,
            allowed,
        }))
    }

    pub(super) fn discarded(&mut self, v: &V, off: u64) {
        if let V::Call(c) = v {
            let sev = if c.allowed {
                Severity::Info
            } else {
                Severity::Suspicious
            };
            let rendered = v.render();
            let f = self.note(
                Rule::PickleDiscarded,
                sev,
                off,
                format!(
                    "result of {rendered} (called at offset {}) is discarded",
                    c.offset
                ),
            );
            f.call = Some(rendered);
        }
    }

    pub(super) fn mutate(&mut self, target: &V, what: &str, off: u64) {
        if let V::Global(g) = target {
            let qual = g.qualname();
            let f = self.note(
                Rule::PickleMutation,
                Severity::Dangerous,
                off,
                format!("{what} writes into imported {qual}"),
            );
            f.global = Some(qual);
        }
    }

    pub(super) fn persistent(&mut self, pid: V, off: u64) -> V {
        let torch_storage = match pid.items() {
            [V::Str(tag, _), V::Global(g), ..] => {
                &**tag == "storage" && g.allowed.is_some() && g.module.starts_with("torch")
            }
            _ => false,
        };
        if !torch_storage {
            let r = pid.render();
            self.note(
                Rule::PicklePersistent,
                Severity::Suspicious,
                off,
                format!("persistent id {r} invokes the loader's persistent_load hook"),
            );
        }
        V::Persistent(Rc::new(pid))
    }

    /// After BUILD of a joblib `NumpyArrayWrapper`, the array bytes follow inline.
    pub(super) fn joblib_array(&mut self, inp: &mut Input<'_>, state: &V, off: u64) -> Result<()> {
        let shape = state
            .dict_get("shape")
            .ok_or_else(|| err(off, "joblib array wrapper without shape"))?;
        let mut count: u64 = 1;
        for d in shape.items() {
            let V::Int(d) = d else {
                return Err(err(off, "joblib array shape is not integers"));
            };
            let d = u64::try_from(*d).map_err(|_| err(off, "negative joblib array dimension"))?;
            count = count
                .checked_mul(d)
                .ok_or_else(|| err(off, "joblib array size overflows"))?;
        }
        let descr = match state.dict_get("dtype") {
            Some(V::Call(c)) => c.args.items().first().and_then(V::str).map(str::to_owned),
            _ => None,
        }
        .ok_or_else(|| err(off, "joblib array dtype not understood"))?;
        if descr.contains('O') {
            // Object arrays are a nested pickle.dump inline.
            return self.nested_pickle(inp);
        }
        let itemsize = numpy_itemsize(&descr)
            .ok_or_else(|| ScanError::unsupported("joblib array", format!("dtype {descr}")))?;
        if !matches!(
            state.dict_get("numpy_array_alignment_bytes"),
            None | Some(V::None)
        ) {
            let [pad] = inp.exact::<1>()?;
            inp.skip(u64::from(pad))?;
        }
        let bytes = count
            .checked_mul(itemsize)
            .ok_or_else(|| err(off, "joblib array size overflows"))?;
        inp.skip(bytes)
    }

    fn nested_pickle(&mut self, inp: &mut Input<'_>) -> Result<()> {
        if self.nested >= 4 {
            return Err(ScanError::Limit("nested pickles deeper than 4".into()));
        }
        let member = self.member;
        Machine::new(self.ctx, member, self.nested + 1)
            .run(inp)
            .map(drop)
    }
}
