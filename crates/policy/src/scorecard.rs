//! The model scorecard (MLSecOps notes §5): OpenSSF Scorecard's idea applied to a model
//! — a handful of checks scored 0–10, a weighted score, and what to fix.

use serde::Serialize;

/// One scorecard check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreCheck {
    /// Check name (Scorecard style, e.g. `Signed-Model`).
    pub name: &'static str,
    /// 0–10.
    pub score: u8,
    /// Weight in the total.
    pub weight: u8,
    /// What was found.
    pub detail: String,
    /// What to do to score 10 (empty when it does).
    pub fix: String,
}

/// The scorecard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scorecard {
    /// Weighted mean of the checks, 0–10, one decimal.
    pub score: f64,
    /// Every check.
    pub checks: Vec<ScoreCheck>,
}

impl Scorecard {
    /// Computes the weighted score.
    #[must_use]
    pub fn new(checks: Vec<ScoreCheck>) -> Self {
        let weights: u32 = checks.iter().map(|c| u32::from(c.weight)).sum();
        let total: u32 = checks
            .iter()
            .map(|c| u32::from(c.weight) * u32::from(c.score))
            .sum();
        let score = if weights == 0 {
            0.0
        } else {
            (f64::from(total) / f64::from(weights) * 10.0).round() / 10.0
        };
        Self { score, checks }
    }

    /// The table printed by `hallmark policy check`.
    #[must_use]
    pub fn table(&self) -> String {
        let mut out = format!("Model scorecard: {:.1}/10\n", self.score);
        out.push_str(&format!(
            "  {:<20} {:>6}  {:<44} {}\n",
            "check", "score", "found", "what to fix"
        ));
        for c in &self.checks {
            let fix = if c.fix.is_empty() {
                "-"
            } else {
                c.fix.as_str()
            };
            out.push_str(&format!(
                "  {:<20} {:>3}/10  {:<44} {}\n",
                c.name,
                c.score,
                truncate(&c.detail, 44),
                fix
            ));
        }
        out
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Builds a check.
#[must_use]
pub fn check(
    name: &'static str,
    score: u8,
    weight: u8,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> ScoreCheck {
    ScoreCheck {
        name,
        score: score.min(10),
        weight,
        detail: detail.into(),
        fix: if score >= 10 {
            String::new()
        } else {
            fix.into()
        },
    }
}

/// `round(10 * part / whole)`, 10 when `whole` is 0.
#[must_use]
pub fn ratio(part: usize, whole: usize) -> u8 {
    if whole == 0 {
        return 10;
    }
    u8::try_from((part * 10 + whole / 2) / whole)
        .unwrap_or(10)
        .min(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_score_and_table() {
        let s = Scorecard::new(vec![
            check("Signed-Model", 10, 10, "signed", "sign it"),
            check("Scan-Clean", 0, 10, "dangerous", "remove the pickle"),
        ]);
        assert!((s.score - 5.0).abs() < f64::EPSILON);
        let t = s.table();
        assert!(
            t.contains("5.0/10") && t.contains("remove the pickle"),
            "{t}"
        );
        assert_eq!(ratio(1, 3), 3);
        assert_eq!(ratio(0, 0), 10);
    }
}
