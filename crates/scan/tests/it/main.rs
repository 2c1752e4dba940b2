//! Integration tests: the generated corpus (every malicious sample flagged, every benign
//! one clean), finding details, limits and malformed input.

mod archives;
mod compressed;
mod corpus;
mod details;
