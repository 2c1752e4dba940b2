//! Resource limits. Every parser checks them; reaching one makes the file "unverified".

/// Bounds on work and memory for one top-level file.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Archive nesting depth (a zip in a tar in a gzip is depth 3).
    pub max_depth: u32,
    /// Members per archive.
    pub max_entries: u64,
    /// Bytes inflated in memory for one compressed member.
    pub max_member_inflated: u64,
    /// Bytes inflated in all, per top-level file (zip-bomb bound).
    pub max_total_inflated: u64,
    /// Compression ratio above which a member is reported as a bomb, and a stream stops
    /// decompressing (both when larger than 1 MiB).
    pub max_ratio: u64,
    /// Memory a decoder may allocate for its dictionary or model (xz, lzma, 7z headers).
    pub max_decoder_memory: u64,
    /// Pickle opcodes per pickle stream.
    pub max_opcodes: u64,
    /// Pickle memo entries.
    pub max_memo: usize,
    /// Pickle stack items.
    pub max_stack: usize,
    /// Nesting depth of a symbolic pickle value.
    pub max_value_depth: u32,
    /// Stacked pickles read from one stream.
    pub max_pickles: u32,
    /// Size of a JSON header or config read into memory (safetensors, Keras, npy).
    pub max_header: u64,
    /// Size of a string read from a binary header (GGUF, protobuf).
    pub max_string: u64,
    /// Items in one header array (GGUF) or fields in one protobuf message.
    pub max_items: u64,
    /// Bytes of a text file examined (Python, JSON, templates).
    pub max_text: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 8,
            max_entries: 200_000,
            max_member_inflated: 1 << 30,
            max_total_inflated: 8 << 30,
            max_ratio: 1_000,
            max_decoder_memory: 256 << 20,
            max_opcodes: 100_000_000,
            max_memo: 4_000_000,
            max_stack: 4_000_000,
            max_value_depth: 200,
            max_pickles: 64,
            max_header: 100_000_000,
            max_string: 64 << 20,
            max_items: 50_000_000,
            max_text: 32 << 20,
        }
    }
}
