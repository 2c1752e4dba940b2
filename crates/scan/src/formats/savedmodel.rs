//! TensorFlow SavedModel (`saved_model.pb`, schema version 1) graph ops against an
//! allow-list, and Keras's `keras_metadata.pb` layer configs.

use super::protobuf::{Pb, Wire};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::report::{Rule, Severity};

/// Ops that run Python or read/write arbitrary files.
const DANGEROUS_OPS: &[&str] = &[
    "PyFunc",
    "PyFuncStateless",
    "EagerPyFunc",
    "ReadFile",
    "WriteFile",
    "MatchingFiles",
    "DeleteFile",
    "ImmutableConst",
    "LoadLibrary",
    "SystemCall",
];
/// Ops that read data from paths (legitimate with bundled assets, but reach the file system).
const FILE_OPS: &[&str] = &[
    "InitializeTableFromTextFile",
    "InitializeTableFromTextFileV2",
    "TextLineDataset",
    "TFRecordDataset",
    "FixedLengthRecordDataset",
    "LoadAndRemapMatrix",
    "DecodeProtoV2",
    "WholeFileReader",
    "WholeFileReaderV2",
];
/// Core ops seen in ordinary inference and serving graphs.
const ALLOWED_OPS: &[&str] = &[
    "Abs",
    "Add",
    "AddN",
    "AddV2",
    "All",
    "Any",
    "ArgMax",
    "ArgMin",
    "Assert",
    "Assign",
    "AssignAddVariableOp",
    "AssignSubVariableOp",
    "AssignVariableOp",
    "AvgPool",
    "AvgPool3D",
    "BatchMatMul",
    "BatchMatMulV2",
    "BatchMatMulV3",
    "BiasAdd",
    "Bitcast",
    "BroadcastArgs",
    "BroadcastTo",
    "Cast",
    "Ceil",
    "CheckNumerics",
    "ConcatV2",
    "Const",
    "Conv2D",
    "Conv2DBackpropInput",
    "Conv3D",
    "Cos",
    "Cumsum",
    "DepthwiseConv2dNative",
    "DisableCopyOnRead",
    "Einsum",
    "Elu",
    "Equal",
    "Erf",
    "Exp",
    "ExpandDims",
    "Fill",
    "Floor",
    "FloorDiv",
    "FloorMod",
    "FusedBatchNorm",
    "FusedBatchNormV3",
    "Gather",
    "GatherNd",
    "GatherV2",
    "Greater",
    "GreaterEqual",
    "Identity",
    "IdentityN",
    "If",
    "Less",
    "LessEqual",
    "Log",
    "Log1p",
    "LogSoftmax",
    "LogicalAnd",
    "LogicalNot",
    "LogicalOr",
    "MatMul",
    "Max",
    "MaxPool",
    "MaxPool3D",
    "Maximum",
    "Mean",
    "MergeV2Checkpoints",
    "Min",
    "Minimum",
    "Mul",
    "Neg",
    "NoOp",
    "NotEqual",
    "OneHot",
    "OnesLike",
    "Pack",
    "Pad",
    "PadV2",
    "PartitionedCall",
    "Placeholder",
    "PlaceholderWithDefault",
    "Pow",
    "Prod",
    "Range",
    "Rank",
    "ReadVariableOp",
    "RealDiv",
    "Reciprocal",
    "Relu",
    "Relu6",
    "Reshape",
    "ResizeBilinear",
    "ResizeNearestNeighbor",
    "ResourceGather",
    "RestoreV2",
    "Round",
    "Rsqrt",
    "SaveV2",
    "Select",
    "SelectV2",
    "Selu",
    "Shape",
    "ShardedFilename",
    "Sigmoid",
    "Sign",
    "Sin",
    "Size",
    "Slice",
    "Softmax",
    "Softplus",
    "Softsign",
    "SpaceToDepth",
    "Split",
    "SplitV",
    "Sqrt",
    "Square",
    "SquaredDifference",
    "Squeeze",
    "StatefulPartitionedCall",
    "StaticRegexFullMatch",
    "StopGradient",
    "StridedSlice",
    "StringJoin",
    "Sub",
    "Sum",
    "Tanh",
    "TensorListFromTensor",
    "TensorListGetItem",
    "TensorListReserve",
    "TensorListSetItem",
    "TensorListStack",
    "Tile",
    "TopKV2",
    "Transpose",
    "Unpack",
    "VarHandleOp",
    "VarIsInitializedOp",
    "While",
    "ZerosLike",
    "Where",
    "Softmax",
    "LeakyRelu",
    "Gelu",
    "Sqrt",
    "Mod",
    "Relu6",
    "Merge",
    "Switch",
    "Enter",
    "Exit",
    "NextIteration",
    "LoopCond",
    "TensorArrayV3",
    "TensorArrayReadV3",
    "TensorArrayWriteV3",
    "TensorArrayGatherV3",
    "TensorArrayScatterV3",
    "TensorArraySizeV3",
    "StatelessIf",
    "StatelessWhile",
    "Print",
    "PrintV2",
    "StringFormat",
    "NoOp",
    "Unique",
    "UnsortedSegmentSum",
    "ScatterNd",
    "MirrorPad",
    "ClipByValue",
    "LRN",
    "Cumprod",
    "ReverseV2",
    "Atan2",
    "Atan",
    "Acos",
    "Asin",
    "Tan",
    "IsNan",
    "IsInf",
    "Conv2DBackpropFilter",
    "DepthToSpace",
    "BatchToSpaceND",
    "SpaceToBatchND",
    "MatrixBandPart",
    "MatrixDiag",
    "HashTableV2",
    "LookupTableFindV2",
    "LookupTableImportV2",
    "LookupTableSizeV2",
    "MutableHashTableV2",
    "StringToHashBucketFast",
    "RegexReplace",
    "StringSplitV2",
    "StringLower",
    "SparseToDense",
    "SparseTensorDenseMatMul",
    "EnsureShape",
    "Snapshot",
    "_Arg",
    "_Retval",
    "TopK",
];

fn node(pb: &mut Pb<'_, '_>, end: u64, ops: &mut Vec<(String, u64)>) -> Result<()> {
    let off = pb.inp.pos();
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (2, Wire::Len(n)) => ops.push((pb.string(n)?, off)),
            _ => pb.skip(w)?,
        }
    }
    Ok(())
}

/// Walks nested messages along `path` (field numbers), collecting NodeDef ops at the leaves.
fn walk(pb: &mut Pb<'_, '_>, end: u64, ops: &mut Vec<(String, u64)>) -> Result<()> {
    // MetaGraphDef.graph_def(2) -> GraphDef.node(1) / GraphDef.library(2) -> function(1) -> node_def(3)
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (2, Wire::Len(n)) => {
                let e = pb.inp.pos() + n;
                while let Some((g, gw)) = pb.field(e)? {
                    match (g, gw) {
                        (1, Wire::Len(m)) => node(pb, pb.inp.pos() + m, ops)?,
                        (2, Wire::Len(m)) => {
                            let le = pb.inp.pos() + m;
                            while let Some((h, hw)) = pb.field(le)? {
                                match (h, hw) {
                                    (1, Wire::Len(k)) => {
                                        let fe = pb.inp.pos() + k;
                                        while let Some((i, iw)) = pb.field(fe)? {
                                            match (i, iw) {
                                                (3, Wire::Len(j)) => {
                                                    node(pb, pb.inp.pos() + j, ops)?
                                                }
                                                _ => pb.skip(iw)?,
                                            }
                                        }
                                    }
                                    _ => pb.skip(hw)?,
                                }
                            }
                        }
                        _ => pb.skip(gw)?,
                    }
                }
            }
            _ => pb.skip(w)?,
        }
    }
    Ok(())
}

/// Scans a `saved_model.pb`.
pub(crate) fn scan(pb: &mut Pb<'_, '_>, len: u64, member: &str, ctx: &mut Ctx<'_>) -> Result<()> {
    let mut ops = Vec::new();
    while let Some((f, w)) = pb.field(len)? {
        match (f, w) {
            (2, Wire::Len(n)) => walk(pb, pb.inp.pos() + n, &mut ops)?,
            _ => pb.skip(w)?,
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (op, off) in ops {
        if !seen.insert(op.clone()) {
            continue;
        }
        let (sev, why) = if DANGEROUS_OPS.contains(&op.as_str()) {
            (
                Severity::Dangerous,
                "runs Python or reads/writes arbitrary files",
            )
        } else if FILE_OPS.contains(&op.as_str()) {
            (Severity::Suspicious, "reads from file paths")
        } else if ALLOWED_OPS.contains(&op.as_str()) || op.starts_with("__inference_") {
            continue;
        } else {
            (
                Severity::Suspicious,
                "outside the op allow-list (custom ops need native libraries)",
            )
        };
        ctx.add(
            Rule::TfOp,
            sev,
            member,
            Some(off),
            format!("TensorFlow op {op}: {why}"),
        );
    }
    Ok(())
}

/// Scans a `keras_metadata.pb` (SavedMetadata: nodes with JSON metadata). `false` if the
/// content does not have that shape.
pub(crate) fn scan_keras_metadata(
    pb: &mut Pb<'_, '_>,
    len: u64,
    member: &str,
    ctx: &mut Ctx<'_>,
) -> Result<bool> {
    let mut configs = Vec::new();
    while let Some((f, w)) = pb.field(len)? {
        let Wire::Len(n) = w else { return Ok(false) };
        if f != 1 {
            return Ok(false);
        }
        let e = pb.inp.pos() + n;
        while let Some((g, gw)) = pb.field(e)? {
            match (g, gw) {
                (5, Wire::Len(m)) => configs.push(pb.string(m)?),
                _ => pb.skip(gw)?,
            }
        }
    }
    let parsed: Vec<serde_json::Value> = configs
        .iter()
        .filter_map(|c| serde_json::from_str(c).ok())
        .collect();
    if parsed.is_empty() {
        return Ok(false);
    }
    for v in &parsed {
        super::keras::judge_config(ctx, member, v);
    }
    Ok(true)
}
