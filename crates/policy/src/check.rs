//! Check identifiers: part of the interface, stable across releases.
//!
//! The ids are those of the root KSK operator's signer, so an auditor can map
//! each result to the DNSSEC Practice Statement. `SKR-TRUST-ANCHOR` and the
//! signing-time `KSK-*` checks are Ceremony's own.

use std::fmt;

macro_rules! check_ids {
    ($($variant:ident => $id:literal, $what:literal;)*) => {
        /// A policy check, named by its published id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum CheckId {
            $(
                #[doc = $what]
                $variant,
            )*
        }

        impl CheckId {
            /// Every check, in the order reports list them.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant),*];

            /// The published id, e.g. `KSR-BUNDLE-POP`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id,)*
                }
            }

            /// One line saying what the check verifies.
            pub fn description(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $what,)*
                }
            }

            /// Looks a check up by its published id.
            pub fn from_id(id: &str) -> Option<CheckId> {
                match id {
                    $($id => Some(CheckId::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

check_ids! {
    KsrDomain => "KSR-DOMAIN", "The KSR is for a domain the policy accepts.";
    KsrId => "KSR-ID", "The KSR id differs from the previous SKR's, so it is not a replay.";
    KsrBundleUnique => "KSR-BUNDLE-UNIQUE", "Bundle ids are unique in the KSR and unused by the previous SKR.";
    KsrBundleKeys => "KSR-BUNDLE-KEYS", "Keys are consistent across bundles, their tags are right, and they match the KSR's ZSK policy.";
    KsrBundlePop => "KSR-BUNDLE-POP", "Every ZSK signs its bundle's DNSKEY RRset, proving possession of its private key.";
    KsrBundleCount => "KSR-BUNDLE-COUNT", "The KSR has the number of bundles the policy expects.";
    KsrBundleCycleDuration => "KSR-BUNDLE-CYCLE-DURATION", "The first to last bundle inception spans the policy's cycle length.";
    KsrPolicyKeys => "KSR-POLICY-KEYS", "Keys per bundle, distinct keys and DNSKEY TTL are as the policy says.";
    KsrPolicyAlg => "KSR-POLICY-ALG", "The KSR's ZSK algorithms and parameters are ones the policy approves.";
    KsrPolicySigOverlap => "KSR-POLICY-SIG-OVERLAP", "Consecutive bundles overlap within the policy's and the KSR's stated range, leaving no gap.";
    KsrPolicySigValidity => "KSR-POLICY-SIG-VALIDITY", "Each bundle's validity lies within the policy's and the KSR's stated minimum and maximum.";
    KsrPolicySigHorizon => "KSR-POLICY-SIG-HORIZON", "No signature would expire in the past or beyond the horizon from now.";
    KsrPolicyBundleIntervals => "KSR-POLICY-BUNDLE-INTERVALS", "Bundle inceptions are spaced within the policy's interval range.";
    KsrChainKeys => "KSR-CHAIN-KEYS", "The previous SKR verifies, and its last ZSK set is the KSR's first.";
    KsrChainOverlap => "KSR-CHAIN-OVERLAP", "The KSR's first bundle overlaps the previous SKR's last within the range.";
    KsrPolicySafety => "KSR-POLICY-SAFETY", "KSKs are published PublishSafety before they sign and kept RetireSafety after.";
    SkrVerify => "SKR-VERIFY", "Every SKR signature is by a KSK in its bundle and verifies over the bundle's DNSKEY RRset.";
    SkrMatch => "SKR-MATCH", "The SKR answers the KSR: id, serial, domain, bundle ids and times.";
    SkrPair => "SKR-PAIR", "Each response bundle has the request's ZSKs, a KSK, and valid KSK signatures covering its window.";
    SkrTrustAnchor => "SKR-TRUST-ANCHOR", "The signing KSKs are trust anchors of the zone, valid at each bundle's inception.";
    KskMatch => "KSK-MATCH", "Each KSK found in the HSM or keystore has the configured algorithm, size, tag and DS.";
    KskValidity => "KSK-VALIDITY", "Each KSK a slot uses is within its configured validity for the whole bundle.";
    KskAlgorithms => "KSK-ALGORITHMS", "In every bundle the KSK signatures cover each algorithm of the ZSKs (RFC 6840 §5.11).";
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for id in CheckId::ALL {
            assert!(seen.insert(id.as_str()), "{id} twice");
            assert_eq!(CheckId::from_id(id.as_str()), Some(*id));
        }
        assert_eq!(CheckId::from_id("KSR-NOPE"), None);
    }
}
