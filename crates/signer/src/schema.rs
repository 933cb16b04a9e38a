//! Rollover schemas: per slot, which KSKs are published, which sign, which are revoked.
//!
//! The 2017–2018 root KSK roll went normal → pre-publish → rollover →
//! revoke, one schema per quarter. A schema names keys from the
//! configuration's key inventory; slots are numbered from 1.

use std::collections::BTreeMap;

/// What one slot does with the KSKs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotAction {
    /// Keys published in the DNSKEY RRset.
    pub publish: Vec<String>,
    /// Keys that sign the RRset (published too, if not already).
    pub sign: Vec<String>,
    /// Keys published with the REVOKE flag (RFC 5011), which must also sign.
    pub revoke: Vec<String>,
}

impl SlotAction {
    /// Every key the slot mentions, in publish, revoke, sign order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.publish.iter().chain(&self.revoke).chain(&self.sign)
    }
}

/// A named schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// Its name in the configuration, e.g. `normal`.
    pub name: String,
    /// Actions by slot number, from 1.
    pub slots: BTreeMap<usize, SlotAction>,
}

impl Schema {
    /// A schema in which `key` publishes and signs in every one of `slots` slots.
    pub fn normal(key: &str, slots: usize) -> Schema {
        let action = SlotAction {
            publish: vec![key.to_owned()],
            sign: vec![key.to_owned()],
            revoke: Vec::new(),
        };
        Schema {
            name: "normal".to_owned(),
            slots: (1..=slots).map(|slot| (slot, action.clone())).collect(),
        }
    }

    /// The action for slot `slot` (1-based), if the schema has it.
    pub fn slot(&self, slot: usize) -> Option<&SlotAction> {
        self.slots.get(&slot)
    }
}
