//! The text exposition: `# HELP`, `# TYPE`, then samples, one family after the other.
use std::fmt::Write;

use super::family::{Counter, CounterVec, Gauge, GaugeVec, Histogram};

/// Builds one `/metrics` page.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty page.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// A counter without labels (`name` ends in `_total`).
    pub fn counter(&mut self, name: &str, help: &str, c: &Counter) -> &mut Self {
        self.head(name, "counter", help);
        let _ = writeln!(self.out, "{name} {}", c.get());
        self
    }

    /// A counter family with one label.
    pub fn counter_vec(
        &mut self,
        name: &str,
        help: &str,
        label: &str,
        c: &CounterVec,
    ) -> &mut Self {
        self.head(name, "counter", help);
        for (value, n) in c.snapshot() {
            let _ = writeln!(
                self.out,
                "{name}{{{label}=\"{}\"}} {n}",
                escape_label(&value)
            );
        }
        self
    }

    /// A gauge without labels.
    pub fn gauge(&mut self, name: &str, help: &str, g: &Gauge) -> &mut Self {
        self.gauge_value(name, help, g.get())
    }

    /// A gauge read at render time.
    pub fn gauge_value(&mut self, name: &str, help: &str, v: i64) -> &mut Self {
        self.head(name, "gauge", help);
        let _ = writeln!(self.out, "{name} {v}");
        self
    }

    /// A gauge family with one label.
    pub fn gauge_vec(&mut self, name: &str, help: &str, label: &str, g: &GaugeVec) -> &mut Self {
        self.head(name, "gauge", help);
        for (value, n) in g.snapshot() {
            let _ = writeln!(
                self.out,
                "{name}{{{label}=\"{}\"}} {n}",
                escape_label(&value)
            );
        }
        self
    }

    /// A histogram (`name` without `_bucket`; seconds).
    pub fn histogram(&mut self, name: &str, help: &str, h: &Histogram) -> &mut Self {
        self.head(name, "histogram", help);
        let (buckets, count, sum) = h.snapshot();
        for (le, n) in buckets {
            let _ = writeln!(self.out, "{name}_bucket{{le=\"{le}\"}} {n}");
        }
        let _ = writeln!(self.out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(self.out, "{name}_sum {sum}");
        let _ = writeln!(self.out, "{name}_count {count}");
        self
    }

    /// The page.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}

/// HELP text: backslash and newline escaped (exposition format).
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Label values: backslash, double quote and newline escaped.
fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
