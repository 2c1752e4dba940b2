//! The import policy: a versioned allow-list per framework, and a deny-list used only to
//! explain and grade what is not allowed (everything outside the allow-list is reported).

/// Version of the built-in rule set; reported in every output. Bump on any change.
pub const POLICY_VERSION: &str = "2026.08.1";

/// The policy's judgement of one `module.name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// On the allow-list.
    Allowed {
        /// What the pickle may do with it.
        how: Use,
        /// Which framework entry allowed it.
        framework: &'static str,
    },
    /// Known to run code, load nested payloads or touch the system.
    Dangerous(&'static str),
    /// Not on the allow-list.
    NotAllowed,
}

mod tables;

pub use tables::Use;
use tables::{ALLOW, DANGEROUS_MODULES, DANGEROUS_NAMES, FAMILY_EXCLUDE};

/// Python 2 module names mapped by `pickle` when protocol < 3 (`_compat_pickle.IMPORT_MAPPING`, subset).
pub(crate) fn py2_module(m: &str) -> &str {
    match m {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "urllib2" => "urllib.request",
        "httplib" => "http.client",
        "UserDict" | "UserList" | "UserString" => "collections",
        "StringIO" | "cStringIO" => "io",
        "thread" => "_thread",
        "Queue" => "queue",
        "SocketServer" => "socketserver",
        "xmlrpclib" => "xmlrpc.client",
        "BaseHTTPServer" | "SimpleHTTPServer" | "CGIHTTPServer" => "http.server",
        other => other,
    }
}

fn module_matches(pattern: &str, module: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => module
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => pattern == module,
    }
}

fn under(prefix: &str, module: &str) -> bool {
    module == prefix
        || module
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('.'))
}

fn is_class_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The policy: built-in allow-list plus audited per-repository overrides.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    extra: Vec<(String, String)>,
}

impl Policy {
    /// Allows additional `module.name` globals (callable), e.g. a project's own classes.
    /// Each override is reported in outputs so it can be audited.
    #[must_use]
    pub fn with_overrides(overrides: &[String]) -> Self {
        let extra = overrides
            .iter()
            .filter_map(|s| {
                let (m, n) = s.split_once(':').or_else(|| s.rsplit_once('.'))?;
                Some((m.to_owned(), n.to_owned()))
            })
            .collect();
        Self { extra }
    }

    /// The overrides in force, as `module.name`.
    #[must_use]
    pub fn overrides(&self) -> Vec<String> {
        self.extra.iter().map(|(m, n)| format!("{m}.{n}")).collect()
    }

    /// Judges one global as `find_class(module, name)` would resolve it.
    #[must_use]
    pub fn classify(&self, module: &str, name: &str) -> Class {
        if self.extra.iter().any(|(m, n)| m == module && n == name) {
            return Class::Allowed {
                how: Use::Call,
                framework: "override",
            };
        }
        // Attribute chains (protocol 4 dotted names) and dunders are never allowed.
        let dotted = name.contains('.');
        let dunder = name
            .split('.')
            .any(|p| p.starts_with("__") && p.ends_with("__") && p.len() > 4);
        if !dotted && !module.is_empty() && !module.split('.').any(str::is_empty) {
            for entry in ALLOW {
                if !module_matches(entry.module, module) {
                    continue;
                }
                let family = entry.module.ends_with(".*");
                if family && FAMILY_EXCLUDE.iter().any(|x| under(x, module)) {
                    continue;
                }
                let hit = entry.names.iter().any(|n| {
                    *n == name
                        || (*n == "*" && (!family || is_class_name(name) || entry.how == Use::Call))
                });
                if hit
                    && !(dunder
                        && !name.starts_with("__newobj")
                        && !name.starts_with("__randomstate")
                        && !name.ends_with("_ctor"))
                {
                    return Class::Allowed {
                        how: entry.how,
                        framework: entry.framework,
                    };
                }
            }
        }
        for (m, n, why) in DANGEROUS_NAMES {
            if *m == module && *n == name {
                return Class::Dangerous(why);
            }
        }
        for (m, why) in DANGEROUS_MODULES {
            if under(m, module) {
                return Class::Dangerous(why);
            }
        }
        if dunder {
            return Class::Dangerous("reaches a dunder attribute (getattr chain)");
        }
        if dotted {
            return Class::Dangerous("attribute chain on an imported object");
        }
        let last = name.rsplit('.').next().unwrap_or(name);
        if [
            "eval",
            "exec",
            "system",
            "popen",
            "spawn",
            "load",
            "loads",
            "compile",
            "open",
            "__import__",
            "getattr",
            "import_module",
            "resolve_name",
            "run",
            "call",
            "check_output",
        ]
        .iter()
        .any(|d| last == *d || last.starts_with(&format!("{d}_")))
        {
            return Class::Dangerous("name of an execution, loading or I/O function");
        }
        Class::NotAllowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_and_deny() {
        let p = Policy::default();
        assert!(matches!(
            p.classify("collections", "OrderedDict"),
            Class::Allowed { how: Use::Call, .. }
        ));
        assert!(matches!(
            p.classify("torch._utils", "_rebuild_tensor_v2"),
            Class::Allowed { .. }
        ));
        assert!(matches!(
            p.classify("torch", "FloatStorage"),
            Class::Allowed { how: Use::Ref, .. }
        ));
        assert!(matches!(
            p.classify("sklearn.linear_model._base", "LinearRegression"),
            Class::Allowed { how: Use::Type, .. }
        ));
        assert!(matches!(
            p.classify("sklearn.datasets._base", "Foo"),
            Class::NotAllowed
        ));
        assert!(matches!(p.classify("os", "system"), Class::Dangerous(_)));
        assert!(matches!(
            p.classify("builtins", "eval"),
            Class::Dangerous(_)
        ));
        assert!(matches!(
            p.classify("numpy", "__builtins__"),
            Class::Dangerous(_)
        ));
        assert!(matches!(
            p.classify("collections", "OrderedDict.__init__"),
            Class::Dangerous(_)
        ));
        assert!(matches!(
            p.classify("pkgutil", "resolve_name"),
            Class::Dangerous(_)
        ));
        assert!(matches!(
            p.classify("importlib", "import_module"),
            Class::Dangerous(_)
        ));
        assert!(matches!(p.classify("mylib", "Thing"), Class::NotAllowed));
        assert!(matches!(p.classify("torch", "load"), Class::Dangerous(_)));
        let p = Policy::with_overrides(&["mylib.Thing".into()]);
        assert!(matches!(
            p.classify("mylib", "Thing"),
            Class::Allowed { .. }
        ));
    }
}
