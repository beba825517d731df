//! What the benchmarks share: interleaved rounds, their statistics, environment knobs, the
//! machine's description and markdown tables.
//!
//! The method (docs/benchmarks.md): every variant is measured once per round, the order
//! rotating every round, so a slow phase of a shared machine hits every variant; results are
//! medians of the rounds, and comparisons medians of per-round ratios.

pub mod env;
pub mod machine;
pub mod rounds;
pub mod stats;
pub mod table;
