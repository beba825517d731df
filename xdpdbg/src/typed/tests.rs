//! Unit tests with synthetic BTF.
