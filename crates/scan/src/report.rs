//! What a scan found: findings, rules, per-file verdicts.

use serde::Serialize;

/// The verdict on one file (or archive member), worst first in [`Ord`] reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Fully parsed; nothing outside the policy.
    Clean,
    /// Could not be checked completely (parse error, unsupported variant, limit): never "clean".
    Unverified,
    /// Outside the allow-list, or a construct that needs review; loading it is blocked by policy.
    Suspicious,
    /// Loading it would run code or touch files, processes or the network.
    Dangerous,
}

impl Verdict {
    /// Lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Unverified => "unverified",
            Self::Suspicious => "suspicious",
            Self::Dangerous => "dangerous",
        }
    }
}

/// Severity of one finding. `Info` does not change the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A note.
    Info,
    /// Part of the file could not be checked.
    Unverified,
    /// Needs review; blocked by policy.
    Suspicious,
    /// Code execution or I/O on load.
    Dangerous,
}

impl Severity {
    /// The verdict this severity forces.
    #[must_use]
    pub fn verdict(self) -> Verdict {
        match self {
            Self::Info => Verdict::Clean,
            Self::Unverified => Verdict::Unverified,
            Self::Suspicious => Verdict::Suspicious,
            Self::Dangerous => Verdict::Dangerous,
        }
    }
}

macro_rules! rules {
    ($($variant:ident = $id:literal, $name:literal, $help:literal;)*) => {
        /// The rules findings are reported under (stable ids, used in SARIF).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Rule { $(#[doc = $help] $variant,)* }

        impl Rule {
            /// Every rule.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];
            /// Stable id, e.g. `HM-PKL-001`.
            #[must_use]
            pub fn id(self) -> &'static str { match self { $(Self::$variant => $id,)* } }
            /// Short name.
            #[must_use]
            pub fn name(self) -> &'static str { match self { $(Self::$variant => $name,)* } }
            /// One-sentence description.
            #[must_use]
            pub fn help(self) -> &'static str { match self { $(Self::$variant => $help,)* } }
        }
    };
}

rules! {
    PickleDangerousImport = "HM-PKL-001", "pickle-dangerous-import", "The pickle imports a callable that runs code, loads nested payloads or touches files, processes or the network.";
    PickleNotAllowed = "HM-PKL-002", "pickle-not-allowlisted", "The pickle imports or calls something outside the framework allow-list (blocked by policy).";
    PickleDynamicCall = "HM-PKL-003", "pickle-dynamic-call", "The pickle calls a value computed while loading (getattr chains, results of other calls).";
    PickleComputedImport = "HM-PKL-004", "pickle-computed-import", "STACK_GLOBAL operands are computed values, not literal strings.";
    PickleMutation = "HM-PKL-005", "pickle-mutates-import", "BUILD/SETITEM/APPEND writes into an imported module, class or function.";
    PickleDiscarded = "HM-PKL-006", "pickle-discarded-call", "A call's result is discarded: typical of an injected payload.";
    PickleExtension = "HM-PKL-007", "pickle-extension-code", "EXT opcodes resolve through the copyreg extension registry, which a scanner cannot see.";
    PicklePersistent = "HM-PKL-008", "pickle-persistent-id", "A persistent id invokes the loader's persistent_load hook outside PyTorch's storage protocol.";
    PickleStructure = "HM-PKL-009", "pickle-structure", "Unusual pickle structure (duplicate PROTO, stacked pickles, resource expansion).";
    ArchiveTraversal = "HM-ARC-001", "archive-path-traversal", "An archive member name is absolute, contains '..', or is a link.";
    ArchiveBomb = "HM-ARC-002", "archive-bomb", "Compression ratio, overlapping members or sizes typical of a decompression bomb.";
    ArchiveDifferential = "HM-ARC-003", "archive-parser-differential", "Local and central zip headers disagree, duplicate names, encryption, or a polyglot file.";
    Unverified = "HM-GEN-001", "unverified", "The content could not be checked completely (parse error, unsupported variant, limit reached).";
    PythonCode = "HM-GEN-002", "python-code", "Python source in a model repository (trust_remote_code, setup scripts): review before running.";
    RemoteCode = "HM-GEN-003", "remote-code-reference", "A config asks loaders to import custom code (auto_map / trust_remote_code).";
    NumpyObject = "HM-NPY-001", "numpy-object-array", "A NumPy object array: loading it unpickles its content (allow_pickle).";
    SafetensorsHeader = "HM-ST-001", "safetensors-header", "safetensors header violates the format (offsets, sizes, dtype, metadata).";
    KerasLambda = "HM-KER-001", "keras-lambda", "A Keras Lambda layer or serialized function: Python bytecode runs on load.";
    KerasCustomObject = "HM-KER-002", "keras-custom-object", "A Keras config references a module outside Keras (custom object import).";
    TfOp = "HM-TF-001", "tensorflow-op", "A TensorFlow graph uses an op outside the allow-list (file I/O, Python callbacks).";
    OnnxExternalData = "HM-ONNX-001", "onnx-external-data", "An ONNX external-data location escapes the model directory (absolute, '..', link).";
    OnnxCustomDomain = "HM-ONNX-002", "onnx-custom-domain", "An ONNX operator from a custom domain needs a native library.";
    GgufHeader = "HM-GGUF-001", "gguf-header", "GGUF header fields out of bounds or inconsistent.";
    ChatTemplate = "HM-TPL-001", "chat-template", "A Jinja2 chat template reaches outside the sandbox (dunder attributes, globals).";
}

/// One thing the scanner reports.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Rule id.
    #[serde(serialize_with = "ser_rule")]
    pub rule: Rule,
    /// Severity.
    pub severity: Severity,
    /// Human explanation.
    pub message: String,
    /// Path of the archive member ("" for the file itself), members joined by `!`.
    pub member: String,
    /// Byte offset in the member (pickle opcode offset, header offset), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// `module.name` of the global involved, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<String>,
    /// The call loading would make, rendered (arguments truncated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
}

fn ser_rule<S: serde::Serializer>(r: &Rule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.id())
}

/// A member found inside an archive (or the file itself).
#[derive(Clone, Debug, Serialize)]
pub struct MemberReport {
    /// Member path, members joined by `!`.
    pub member: String,
    /// Format identified from content.
    pub format: String,
    /// Verdict for this member alone (nested members included).
    pub verdict: Verdict,
}

/// The result for one file given to (or found by) the scanner.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// Path as given / found.
    pub path: String,
    /// Format identified from content.
    pub format: String,
    /// The worst verdict over the file and its members.
    pub verdict: Verdict,
    /// Findings, in the order met.
    pub findings: Vec<Finding>,
    /// Archive members (empty for plain files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberReport>,
}

impl FileReport {
    /// Recomputes the verdict from the findings.
    pub(crate) fn verdict_of(findings: &[Finding]) -> Verdict {
        findings
            .iter()
            .map(|f| f.severity.verdict())
            .max()
            .unwrap_or(Verdict::Clean)
    }
}
