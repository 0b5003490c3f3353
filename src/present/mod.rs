//! Every renderer: reports (csv, json, md, html) and the graph exports (dot, graphml, json, parquet).
//! Uses the query view models and the engine's answers; computes none of its own.

pub mod graph;
pub mod report;
