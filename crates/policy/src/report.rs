//! The result of running checks: every check's outcome, every violation.

use ceremony_dnssec::KeyTag;

use crate::CheckId;

/// One broken rule, with where it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// What is wrong, citing the numbers involved.
    pub message: String,
    /// The bundle it concerns, if one.
    pub bundle: Option<String>,
    /// The key it concerns, if one.
    pub key_tag: Option<KeyTag>,
}

impl Violation {
    /// A violation that concerns the document as a whole.
    pub fn new(message: impl Into<String>) -> Violation {
        Violation {
            message: message.into(),
            bundle: None,
            key_tag: None,
        }
    }

    /// The same violation, located in a bundle.
    pub fn in_bundle(mut self, bundle: &str) -> Violation {
        self.bundle = Some(bundle.to_owned());
        self
    }

    /// The same violation, about a key.
    pub fn for_key(mut self, key_tag: KeyTag) -> Violation {
        self.key_tag = Some(key_tag);
        self
    }
}

/// How one check came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The check ran and found nothing wrong; the text says what was verified.
    Passed(String),
    /// The check ran and found these violations.
    Failed(Vec<Violation>),
    /// The configuration switched the check off.
    Skipped(String),
    /// The check cannot run on this input (no previous SKR, a format without proofs).
    NotApplicable(String),
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// Which check.
    pub id: CheckId,
    /// What it found.
    pub outcome: Outcome,
}

/// Outcomes of all checks run on one document, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per check, in [`CheckId::ALL`] order.
    pub results: Vec<CheckResult>,
}

impl Report {
    /// Records an outcome.
    pub fn push(&mut self, id: CheckId, outcome: Outcome) {
        self.results.push(CheckResult { id, outcome });
        self.results.sort_by_key(|r| r.id);
    }

    /// Records a check that ran: passed when `violations` is empty.
    pub fn record(&mut self, id: CheckId, violations: Vec<Violation>, passed: impl Into<String>) {
        let outcome = if violations.is_empty() {
            Outcome::Passed(passed.into())
        } else {
            Outcome::Failed(violations)
        };
        self.push(id, outcome);
    }

    /// Sets a check's outcome, replacing any earlier one for the same check.
    pub fn replace(&mut self, id: CheckId, outcome: Outcome) {
        self.results.retain(|r| r.id != id);
        self.push(id, outcome);
    }

    /// Adds violations to a check: a passed or absent check becomes failed, a failed one grows.
    pub fn add_violations(&mut self, id: CheckId, violations: Vec<Violation>) {
        if violations.is_empty() {
            return;
        }
        let mut all = match self.outcome(id) {
            Some(Outcome::Failed(existing)) => existing.clone(),
            _ => Vec::new(),
        };
        all.extend(violations);
        self.replace(id, Outcome::Failed(all));
    }

    /// Takes another report's results, replacing those of the same checks.
    pub fn merge(&mut self, other: Report) {
        for result in other.results {
            self.replace(result.id, result.outcome);
        }
    }

    /// Whether no check failed.
    pub fn is_ok(&self) -> bool {
        self.failed().next().is_none()
    }

    /// The ids of the checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = CheckId> + '_ {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .map(|r| r.id)
    }

    /// The outcome of one check, if it was run or reported.
    pub fn outcome(&self, id: CheckId) -> Option<&Outcome> {
        self.results.iter().find(|r| r.id == id).map(|r| &r.outcome)
    }
}
