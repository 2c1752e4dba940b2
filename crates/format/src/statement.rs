//! in-toto statements.
