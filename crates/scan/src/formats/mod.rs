//! Format scanners.

pub(crate) mod compress;
pub(crate) mod gguf;
pub(crate) mod keras;
pub(crate) mod npy;
pub(crate) mod onnx;
pub(crate) mod protobuf;
pub(crate) mod protomodel;
pub(crate) mod safetensors;
pub(crate) mod savedmodel;
pub(crate) mod sevenz;
pub(crate) mod tar;
pub(crate) mod text;
pub(crate) mod zip;
pub(crate) mod zipdir;
