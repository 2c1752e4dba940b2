//! The import policy: a versioned allow-list per framework, and a deny-list used only to
//! explain and grade what is not allowed (everything outside the allow-list is reported).

/// Version of the built-in rule set; reported in every output. Bump on any change.
pub const POLICY_VERSION: &str = "2026.08.1";

/// How an allowed global may be used by a pickle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Use {
    /// Only referenced (a dtype, a class passed as an argument); calling it is not allowed.
    Ref,
    /// A class that may be created without running its constructor (NEWOBJ,
    /// `copyreg._reconstructor`) and restored with BUILD; calling it with arguments is not.
    Type,
    /// May be called with any arguments.
    Call,
}

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

struct Entry {
    framework: &'static str,
    module: &'static str,
    names: &'static [&'static str],
    how: Use,
}

const fn e(
    framework: &'static str,
    module: &'static str,
    how: Use,
    names: &'static [&'static str],
) -> Entry {
    Entry {
        framework,
        module,
        names,
        how,
    }
}

const STORAGES: &[&str] = &[
    "DoubleStorage",
    "FloatStorage",
    "HalfStorage",
    "BFloat16Storage",
    "LongStorage",
    "IntStorage",
    "ShortStorage",
    "CharStorage",
    "ByteStorage",
    "BoolStorage",
    "ComplexFloatStorage",
    "ComplexDoubleStorage",
    "QUInt8Storage",
    "QInt8Storage",
    "QInt32Storage",
    "QUInt4x2Storage",
    "QUInt2x4Storage",
    "UntypedStorage",
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "half",
    "float",
    "double",
    "long",
    "int",
    "short",
    "cfloat",
    "contiguous_format",
    "channels_last",
    "channels_last_3d",
    "preserve_format",
    "per_tensor_affine",
    "per_channel_affine",
    "per_tensor_symmetric",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
    "strided",
    "sparse_coo",
    "sparse_csr",
    "sparse_csc",
    "sparse_bsr",
    "sparse_bsc",
    "_mkldnn",
];

const NUMPY_SCALARS: &[&str] = &[
    "bool_",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "longdouble",
    "complex64",
    "complex128",
    "clongdouble",
    "str_",
    "bytes_",
    "void",
    "object_",
    "datetime64",
    "timedelta64",
    "intc",
    "uintc",
    "int_",
    "uint",
    "longlong",
    "ulonglong",
    "half",
    "single",
    "double",
    "csingle",
    "cdouble",
];

/// The allow-list. Sources: torch 2.x `torch/_weights_only_unpickler.py`, numpy 1.x/2.x
/// `__reduce__` implementations, joblib `numpy_pickle.py`, scikit-learn estimators.
const ALLOW: &[Entry] = &[
    // Python stdlib used by every framework's pickles.
    e(
        "python",
        "collections",
        Use::Call,
        &["OrderedDict", "defaultdict", "Counter", "deque"],
    ),
    e(
        "python",
        "builtins",
        Use::Call,
        &[
            "set",
            "frozenset",
            "bytearray",
            "complex",
            "slice",
            "range",
            "dict",
            "list",
            "tuple",
            "int",
            "float",
            "bool",
            "str",
            "bytes",
        ],
    ),
    e(
        "python",
        "builtins",
        Use::Ref,
        &["object", "NoneType", "Ellipsis", "NotImplemented"],
    ),
    e("python", "_codecs", Use::Call, &["encode"]),
    e(
        "python",
        "copyreg",
        Use::Call,
        &["_reconstructor", "__newobj__", "__newobj_ex__"],
    ),
    e(
        "python",
        "datetime",
        Use::Call,
        &["datetime", "date", "time", "timedelta", "timezone"],
    ),
    e("python", "decimal", Use::Call, &["Decimal"]),
    e("python", "fractions", Use::Call, &["Fraction"]),
    e("python", "uuid", Use::Call, &["UUID"]),
    e("python", "enum", Use::Ref, &["Enum", "IntEnum"]),
    // PyTorch (weights_only unpickler globals).
    e(
        "torch",
        "torch._utils",
        Use::Call,
        &[
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
            "_rebuild_tensor_v3",
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
            "_rebuild_sparse_tensor",
            "_rebuild_qtensor",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_wrapper_subclass",
            "_rebuild_device_tensor_from_numpy",
            "_rebuild_device_tensor_from_cpu_tensor",
            "_rebuild_nested_tensor",
            "_rebuild_xla_tensor",
            "_rebuild_mtia_tensor",
        ],
    ),
    e(
        "torch",
        "torch._tensor",
        Use::Call,
        &["_rebuild_from_type_v2"],
    ),
    e("torch", "torch", Use::Call, &["Size", "device", "Tensor"]),
    e("torch", "torch", Use::Ref, STORAGES),
    e(
        "torch",
        "torch.storage",
        Use::Ref,
        &["UntypedStorage", "TypedStorage", "_load_from_bytes"],
    ),
    e(
        "torch",
        "torch.nn.parameter",
        Use::Call,
        &["Parameter", "Buffer"],
    ),
    e("torch", "torch.serialization", Use::Call, &["_get_layout"]),
    e("torch", "torch.nn.modules.*", Use::Type, &["*"]),
    e("torch", "torch._C._nn", Use::Ref, &[]),
    // NumPy 1.x and 2.x.
    e(
        "numpy",
        "numpy.core.multiarray",
        Use::Call,
        &["_reconstruct", "scalar"],
    ),
    e(
        "numpy",
        "numpy._core.multiarray",
        Use::Call,
        &["_reconstruct", "scalar"],
    ),
    e("numpy", "numpy.core.numeric", Use::Call, &["_frombuffer"]),
    e("numpy", "numpy._core.numeric", Use::Call, &["_frombuffer"]),
    e("numpy", "numpy", Use::Call, &["dtype", "ndarray"]),
    e("numpy", "numpy", Use::Ref, NUMPY_SCALARS),
    e("numpy", "numpy.dtypes", Use::Ref, &["*"]),
    e(
        "numpy",
        "numpy.random._pickle",
        Use::Call,
        &[
            "__randomstate_ctor",
            "__bit_generator_ctor",
            "__generator_ctor",
        ],
    ),
    e(
        "numpy",
        "numpy.random.*",
        Use::Type,
        &[
            "RandomState",
            "Generator",
            "MT19937",
            "PCG64",
            "PCG64DXSM",
            "Philox",
            "SFC64",
        ],
    ),
    e("numpy", "numpy.ma.core", Use::Call, &["_mareconstruct"]),
    // joblib containers.
    e(
        "joblib",
        "joblib.numpy_pickle",
        Use::Type,
        &["NumpyArrayWrapper"],
    ),
    e(
        "joblib",
        "joblib.numpy_pickle_compat",
        Use::Type,
        &["NDArrayWrapper"],
    ),
    // scikit-learn: estimators are restored with NEWOBJ + BUILD (their __setstate__);
    // a few Cython types reduce with constructor arguments.
    e("sklearn", "sklearn.*", Use::Type, &["*"]),
    e("sklearn", "sklearn.tree._tree", Use::Call, &["Tree"]),
    e(
        "sklearn",
        "sklearn.neighbors._kd_tree",
        Use::Call,
        &["KDTree"],
    ),
    e(
        "sklearn",
        "sklearn.neighbors._ball_tree",
        Use::Call,
        &["BallTree"],
    ),
    e("sklearn", "sklearn._loss._loss", Use::Call, &["*"]),
    e("sklearn", "sklearn._loss.link", Use::Type, &["*"]),
    e("scipy", "scipy.sparse.*", Use::Type, &["*"]),
    e("xgboost", "xgboost.*", Use::Type, &["*"]),
    e("lightgbm", "lightgbm.*", Use::Type, &["*"]),
    // transformers training_args.bin: dataclasses and str enums.
    e("transformers", "transformers.*", Use::Type, &["*"]),
    e(
        "transformers",
        "transformers.trainer_utils",
        Use::Call,
        &[
            "IntervalStrategy",
            "SchedulerType",
            "HubStrategy",
            "SaveStrategy",
            "FSDPOption",
        ],
    ),
    e(
        "transformers",
        "transformers.training_args",
        Use::Call,
        &["OptimizerNames"],
    ),
    e(
        "transformers",
        "accelerate.utils.dataclasses",
        Use::Call,
        &["DistributedType"],
    ),
];

/// Sub-modules of allowed `prefix.*` families that are never allowed.
const FAMILY_EXCLUDE: &[&str] = &[
    "sklearn.datasets",
    "sklearn.utils._testing",
    "sklearn.externals",
    "sklearn.utils._show_versions",
    "transformers.utils.hub",
    "transformers.dynamic_module_utils",
    "transformers.modeling_utils",
    "transformers.utils.import_utils",
    "xgboost.testing",
    "xgboost.tracker",
    "xgboost.dask",
    "lightgbm.dask",
];

/// Known-dangerous modules (prefix match) with the reason.
const DANGEROUS_MODULES: &[(&str, &str)] = &[
    ("os", "operating-system access (processes, files)"),
    ("posix", "operating-system access"),
    ("nt", "operating-system access"),
    ("subprocess", "runs processes"),
    ("pty", "runs processes"),
    ("_posixsubprocess", "runs processes"),
    ("commands", "runs processes"),
    ("popen2", "runs processes"),
    ("asyncio", "runs processes / network"),
    ("multiprocessing", "runs processes"),
    ("concurrent", "runs code in workers"),
    ("socket", "network"),
    ("_socket", "network"),
    ("ssl", "network"),
    ("urllib", "network"),
    ("urllib2", "network"),
    ("http", "network"),
    ("httplib", "network"),
    ("ftplib", "network"),
    ("smtplib", "network"),
    ("telnetlib", "network"),
    ("poplib", "network"),
    ("imaplib", "network"),
    ("nntplib", "network"),
    ("requests", "network"),
    ("httpx", "network"),
    ("aiohttp", "network"),
    ("webbrowser", "opens URLs / runs programs"),
    ("xmlrpc", "network"),
    ("socketserver", "network"),
    ("runpy", "runs Python code"),
    ("code", "runs Python code"),
    ("codeop", "compiles Python code"),
    ("pdb", "runs Python code"),
    ("bdb", "runs Python code"),
    ("timeit", "runs Python code"),
    ("cProfile", "runs Python code"),
    ("profile", "runs Python code"),
    ("trace", "runs Python code"),
    ("doctest", "runs Python code"),
    ("IPython", "runs Python code"),
    ("idlelib", "runs Python code"),
    ("types", "builds code or function objects"),
    ("ctypes", "native code"),
    ("_ctypes", "native code"),
    ("cffi", "native code"),
    ("importlib", "nested loader: imports arbitrary modules"),
    ("imp", "nested loader: imports arbitrary modules"),
    ("zipimport", "nested loader: imports code"),
    (
        "pkgutil",
        "nested loader: resolves any name (pkgutil.resolve_name)",
    ),
    ("marshal", "nested loader: unmarshals code objects"),
    ("pickle", "nested loader: unpickles a nested payload"),
    ("_pickle", "nested loader: unpickles a nested payload"),
    ("cPickle", "nested loader: unpickles a nested payload"),
    ("pickletools", "nested pickle tooling"),
    ("shelve", "nested loader (pickle)"),
    ("dill", "nested loader (pickle with code)"),
    ("cloudpickle", "nested loader (pickle with code)"),
    ("yaml", "nested loader (yaml.load)"),
    ("jsonpickle", "nested loader"),
    ("inspect", "reaches arbitrary attributes (getattr_static)"),
    (
        "operator",
        "attribute/method gadgets (attrgetter, methodcaller)",
    ),
    ("functools", "call gadgets (partial, reduce)"),
    ("itertools", "call gadgets (starmap)"),
    ("sys", "interpreter state (modules, path)"),
    ("site", "interpreter set-up"),
    ("sysconfig", "interpreter set-up"),
    ("shutil", "file system"),
    ("tempfile", "file system"),
    ("glob", "file system"),
    ("pathlib", "file system"),
    ("io", "file I/O"),
    ("_io", "file I/O"),
    ("fileinput", "file I/O"),
    ("logging", "file I/O (FileHandler)"),
    ("tarfile", "file system"),
    ("zipfile", "file system"),
    ("sqlite3", "file I/O"),
    ("dbm", "file I/O"),
    ("pip", "installs packages"),
    ("ensurepip", "installs packages"),
    ("setuptools", "runs build code"),
    ("distutils", "runs build code"),
    ("venv", "creates environments"),
    ("signal", "process control"),
    ("resource", "process control"),
    ("threading", "threads"),
    ("_thread", "threads"),
    ("gc", "interpreter internals"),
    ("builtins", "builtins"),
    ("__builtin__", "builtins"),
    ("__main__", "code of the program that saved the pickle"),
    ("jinja2", "template execution"),
    ("torch.hub", "downloads and runs code"),
    ("torch.package", "nested loader"),
    ("torch.jit", "loads TorchScript"),
    ("torch.ops", "native operators"),
    ("torch._C", "native internals"),
    ("torch.utils.cpp_extension", "compiles native code"),
    ("numpy.f2py", "compiles native code"),
    ("numpy.ctypeslib", "native code"),
    ("numpy.distutils", "runs build code"),
    ("numpy.testing", "runs Python code (runstring)"),
    ("numpy.lib.npyio", "nested loader"),
    ("keras", "nested loader (load_model)"),
    ("tensorflow", "nested loader / file I/O"),
    ("joblib", "nested loader (joblib.load)"),
];

/// Dangerous names in modules that are otherwise allowed or unknown.
const DANGEROUS_NAMES: &[(&str, &str, &str)] = &[
    ("torch", "load", "nested loader: torch.load"),
    ("torch.serialization", "load", "nested loader: torch.load"),
    ("torch", "from_file", "reads files"),
    ("numpy", "load", "nested loader: numpy.load"),
    ("numpy", "fromfile", "reads files"),
    ("numpy", "memmap", "maps files"),
    ("pandas", "read_pickle", "nested loader: pandas.read_pickle"),
    (
        "copyreg",
        "add_extension",
        "rewrites the extension registry",
    ),
];

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
