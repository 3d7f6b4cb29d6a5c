//! What a scenario measured and how it compares: figures with their units and targets,
//! percentiles, and the table printed at the end.

use std::time::Duration;

/// How a figure compares with its target.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
    /// Shown for context only.
    None,
}

#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Seconds,
    Millis,
    PerSecond,
    PerMinute,
    Megabytes,
    /// A measured figure divided by its floor, measured in the same run.
    Ratio,
    /// A number of things (requests, rows).
    Count,
}

impl Unit {
    fn format(self, value: f64) -> String {
        match self {
            Unit::Seconds => format!("{value:.2} s"),
            Unit::Millis => format!("{value:.1} ms"),
            Unit::PerSecond => format!("{}/s", thousands(value.round() as u64)),
            Unit::PerMinute => format!("{value:.1}/min"),
            Unit::Megabytes => format!("{value:.0} MB"),
            Unit::Ratio => format!("{value:.2}×"),
            Unit::Count if value.fract() == 0.0 => thousands(value as u64),
            Unit::Count => format!("{value:.1}"),
        }
    }
}

/// One line of the result table.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    /// `None` when the scenario failed before measuring it.
    pub value: Option<f64>,
    pub unit: Unit,
    /// What the same work takes this machine at its simplest, measured in the same run; when
    /// set, the target is on `value / floor`.
    pub floor: Option<f64>,
    pub target: Target,
    pub anchor: &'static str,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: Unit, target: Target) -> Self {
        Self {
            name: name.into(),
            value: Some(value),
            unit,
            floor: None,
            target,
            anchor: "",
        }
    }

    /// A figure stated against its floor: `target` applies to the ratio `value / floor`.
    pub fn against(
        name: impl Into<String>,
        value: f64,
        floor: f64,
        unit: Unit,
        target: Target,
    ) -> Self {
        Self {
            floor: Some(floor),
            ..Self::new(name, value, unit, target)
        }
    }

    /// `value / floor`, when both are known.
    pub fn ratio(&self) -> Option<f64> {
        Some(self.value? / self.floor.filter(|f| *f > 0.0)?)
    }

    /// What the target is compared with: the ratio for figures against a floor.
    fn compared(&self) -> Option<f64> {
        if self.floor.is_some() {
            self.ratio()
        } else {
            self.value
        }
    }

    pub fn anchor(mut self, anchor: &'static str) -> Self {
        self.anchor = anchor;
        self
    }

    pub fn verdict(&self) -> &'static str {
        match (self.compared(), self.target) {
            (None, _) => "FAILED",
            (Some(_), Target::None) => "",
            (Some(v), Target::AtMost(t)) if v <= t => "PASS",
            (Some(v), Target::AtLeast(t)) if v >= t => "PASS",
            _ => "MISS",
        }
    }

    fn target_text(&self) -> String {
        let unit = if self.floor.is_some() {
            Unit::Ratio
        } else {
            self.unit
        };
        match self.target {
            Target::AtMost(t) => format!("≤ {}", unit.format(t)),
            Target::AtLeast(t) => format!("≥ {}", unit.format(t)),
            Target::None => String::new(),
        }
    }
}

/// The nearest-rank percentile `p` (0–100) of sorted durations.
pub(super) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn print_table(figures: &[Figure]) {
    let format = |f: &Figure, v: Option<f64>| v.map_or(String::new(), |v| f.unit.format(v));
    let rows: Vec<[String; 7]> = figures
        .iter()
        .map(|f| {
            [
                f.name.clone(),
                format(f, f.floor),
                f.value.map_or("—".to_owned(), |v| f.unit.format(v)),
                f.ratio().map_or(String::new(), |r| Unit::Ratio.format(r)),
                f.target_text(),
                f.anchor.to_owned(),
                f.verdict().to_owned(),
            ]
        })
        .collect();
    let header = [
        "scenario",
        "floor (same run)",
        "measured",
        "ratio",
        "target",
        "Electric anchor",
        "result",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn verdicts_compare_with_the_target() {
        let fast = Figure::new("x", 1.0, Unit::Seconds, Target::AtMost(2.4));
        let slow = Figure::new("x", 3.0, Unit::Seconds, Target::AtMost(2.4));
        let rate = Figure::new("x", 60_000.0, Unit::PerSecond, Target::AtLeast(50_000.0));
        assert_eq!(fast.verdict(), "PASS");
        assert_eq!(slow.verdict(), "MISS");
        assert_eq!(rate.verdict(), "PASS");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(rate.target_text(), "≥ 50,000/s");
    }

    #[test]
    fn figures_against_a_floor_are_judged_by_their_ratio() {
        let near = Figure::against("x", 1.2, 1.0, Unit::Seconds, Target::AtMost(1.3));
        let far = Figure::against("x", 2.7, 1.0, Unit::Seconds, Target::AtMost(1.3));
        let rate = Figure::against("x", 80.0, 100.0, Unit::PerSecond, Target::AtLeast(0.7));
        assert_eq!(near.verdict(), "PASS");
        assert_eq!(far.verdict(), "MISS");
        assert_eq!(rate.verdict(), "PASS");
        assert_eq!(far.target_text(), "≤ 1.30×");
        assert!((far.ratio().unwrap() - 2.7).abs() < 1e-9);
    }
}
