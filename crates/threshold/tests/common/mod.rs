//! Shared by the test binaries: the known-answer vector and subset enumeration.
#![allow(dead_code)] // each binary uses its own part

pub mod frost;

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine as _;

/// `shared/data/vectors/shoup-threshold-rsa.txt`, parsed.
pub struct Vector {
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub n: Vec<u8>,
    pub e: u32,
    pub k: u16,
    pub l: u16,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Reads the vector file.
pub fn vector() -> Vector {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/vectors/shoup-threshold-rsa.txt");
    let text = std::fs::read_to_string(&path).expect("the shared vector file");
    let fields: HashMap<&str, &str> = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split_once(' '))
        .collect();
    let hex = |key: &str| hex::decode(fields[key]).expect("hex field");
    let number = |key: &str| fields[key].parse::<u32>().expect("decimal field");
    assert_eq!(fields["hash"], "SHA-256");
    Vector {
        p: hex("p_hex"),
        q: hex("q_hex"),
        n: hex("n_hex"),
        e: number("e"),
        k: number("k") as u16,
        l: number("l") as u16,
        message: fields["message_utf8"].as_bytes().to_vec(),
        signature: base64::engine::general_purpose::STANDARD
            .decode(fields["signature_base64"])
            .expect("base64"),
    }
}

/// Every k-subset of {1..l}, as index lists.
pub fn subsets(l: u16, k: u16) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << l) {
        if mask.count_ones() == u32::from(k) {
            out.push((1..=l).filter(|i| mask & (1 << (i - 1)) != 0).collect());
        }
    }
    out
}
