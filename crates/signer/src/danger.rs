//! Signing with checks set aside: for tests and demonstrations with foreign keys only.
//!
//! A real ceremony never waives a check: [`crate::sign_ksr`] refuses any
//! failure. A test that puts a dealt key in place of the root's KSK, or an
//! Ed25519 KSK over the root's RSA ZSKs, must state which check it sets aside
//! and why; [`sign_ksr_waiving`] records each waived check in the report as
//! skipped, with that reason and what the check found, never as passed.

use ceremony_policy::{CheckId, Outcome, Report};

use crate::sign::sign_checked;
use crate::{SignError, SignRequest, Signed};

/// One check set aside for one signing, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    /// The check.
    pub id: CheckId,
    /// Why it does not apply here, for the report.
    pub reason: String,
}

/// [`crate::sign_ksr`], except that a failure of a waived check is reported
/// as skipped (with the waiver's reason and the violations) and does not stop
/// the signing. Every other check still refuses.
///
/// # Errors
/// As [`crate::sign_ksr`], for any check not waived.
pub fn sign_ksr_waiving(
    request: &SignRequest<'_>,
    waivers: &[Waiver],
) -> Result<Signed, SignError> {
    sign_checked(request, &|report| waive(report, waivers))
}

/// Replaces each waived check's failure in `report` by a skipped outcome naming the waiver.
pub fn waive(report: &mut Report, waivers: &[Waiver]) {
    for waiver in waivers {
        if let Some(Outcome::Failed(violations)) = report.outcome(waiver.id) {
            let found: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
            let outcome = Outcome::Skipped(format!(
                "waived for this signing: {}; it found: {}",
                waiver.reason,
                found.join("; ")
            ));
            report.replace(waiver.id, outcome);
        }
    }
}
