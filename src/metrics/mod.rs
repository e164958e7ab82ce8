//! Metrics in the Prometheus text exposition format (version 0.0.4,
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>), served at `GET /metrics`.
//!
//! Written here rather than with the `prometheus` crate: siaga needs a few counters,
//! gauges and histograms with one label each, updated from the gateway's event stream and a
//! few hot paths as plain atomics (no lock on the SIP task), and the format is a page of
//! text. Families render in a fixed order, label values sorted, so the output is stable.
mod family;
pub mod gateway;
mod text;

pub use family::{Counter, CounterVec, Gauge, GaugeVec, Histogram};
pub use gateway::GatewayMetrics;
pub use text::Exposition;

#[cfg(test)]
mod tests;
