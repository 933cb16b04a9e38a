//! RFC 6962 hashing and RFC 9162 proofs: the shared vectors, every proof of
//! every tree up to 64 leaves, and property tests that altered proofs fail.

use std::path::PathBuf;

use ceremony_transcript::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion, CompactTree, Hash, ProofError,
};
use proptest::prelude::*;

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/vectors/rfc6962-merkle.txt")
}

fn hash(hex_str: &str) -> Hash {
    hex::decode(hex_str)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

struct Vectors {
    leaves: Vec<Vec<u8>>,
    roots: Vec<(u64, Hash)>,
    inclusions: Vec<(u64, u64, Vec<Hash>)>,
    consistencies: Vec<(u64, u64, Vec<Hash>)>,
}

fn field(word: &str, key: &str) -> u64 {
    word.strip_prefix(key)
        .and_then(|v| v.strip_prefix('='))
        .expect("key=value")
        .parse()
        .expect("number")
}

fn load() -> Vectors {
    let text = std::fs::read_to_string(vectors_path()).expect("../shared/data/vectors");
    let mut v = Vectors {
        leaves: vec![],
        roots: vec![],
        inclusions: vec![],
        consistencies: vec![],
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "leaf" if words[1] == "\"\"" => v.leaves.push(vec![]),
            "leaf" => v.leaves.push(hex::decode(words[1]).expect("hex leaf")),
            "root" => v.roots.push((field(words[1], "size"), hash(words[2]))),
            "inclusion" => v.inclusions.push((
                field(words[1], "index"),
                field(words[2], "size"),
                words[3..].iter().map(|h| hash(h)).collect(),
            )),
            "consistency" => v.consistencies.push((
                field(words[1], "old"),
                field(words[2], "new"),
                words[3..].iter().map(|h| hash(h)).collect(),
            )),
            other => panic!("unknown vector line {other}"),
        }
    }
    v
}

fn leaf_hashes(leaves: &[Vec<u8>]) -> Vec<Hash> {
    leaves.iter().map(|l| leaf_hash(l)).collect()
}

#[test]
fn empty_tree_is_sha256_of_nothing() {
    // RFC 6962 §2.1: "The hash of an empty list is the hash of an empty string".
    assert_eq!(
        hex::encode(empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(root(&[]), empty_root());
    assert_eq!(CompactTree::new().root(), empty_root());
}

#[test]
fn vector_roots() {
    let v = load();
    assert_eq!(v.leaves.len(), 8);
    assert_eq!(v.roots.len(), 8);
    let leaves = leaf_hashes(&v.leaves);
    let mut compact = CompactTree::new();
    for (size, want) in &v.roots {
        let n = *size as usize;
        assert_eq!(root(&leaves[..n]), *want, "MTH of {size} leaves");
        while compact.size() < *size {
            compact.push(leaves[compact.size() as usize]);
        }
        assert_eq!(compact.root(), *want, "compact root of {size} leaves");
    }
}

#[test]
fn vector_inclusion_proofs() {
    let v = load();
    assert_eq!(v.inclusions.len(), 8);
    let leaves = leaf_hashes(&v.leaves);
    for (index, size, want) in &v.inclusions {
        let tree = &leaves[..*size as usize];
        let proof = inclusion_proof(tree, *index).expect("index in range");
        assert_eq!(&proof, want, "PATH({index}, D[{size}])");
        verify_inclusion(&leaves[*index as usize], *index, *size, want, &root(tree))
            .expect("vector proof verifies");
    }
}

#[test]
fn vector_consistency_proofs() {
    let v = load();
    assert_eq!(v.consistencies.len(), 7);
    let leaves = leaf_hashes(&v.leaves);
    for (old, new, want) in &v.consistencies {
        let tree = &leaves[..*new as usize];
        let proof = consistency_proof(tree, *old).expect("old <= new");
        assert_eq!(&proof, want, "SUBPROOF({old}, D[{new}], true)");
        verify_consistency(
            *old,
            *new,
            &root(&leaves[..*old as usize]),
            &root(tree),
            want,
        )
        .expect("vector proof verifies");
    }
}

fn synthetic_leaves(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
        .collect()
}

#[test]
fn every_inclusion_proof_up_to_64_leaves_round_trips() {
    let all = synthetic_leaves(64);
    let mut count = 0;
    let mut compact = CompactTree::new();
    for n in 1..=64usize {
        compact.push(all[n - 1]);
        let tree = &all[..n];
        let r = root(tree);
        assert_eq!(compact.root(), r, "compact root of {n}");
        for m in 0..n as u64 {
            let proof = inclusion_proof(tree, m).expect("in range");
            verify_inclusion(&tree[m as usize], m, n as u64, &proof, &r)
                .unwrap_or_else(|e| panic!("inclusion {m} in {n}: {e}"));
            // The same proof does not place the leaf anywhere else.
            for other in (0..n as u64).filter(|&o| o != m) {
                assert!(verify_inclusion(&tree[m as usize], other, n as u64, &proof, &r).is_err());
            }
            count += 1;
        }
        assert_eq!(
            inclusion_proof(tree, n as u64),
            Err(ProofError::IndexOutOfRange {
                index: n as u64,
                size: n as u64
            })
        );
    }
    assert_eq!(count, 64 * 65 / 2);
}

#[test]
fn every_consistency_proof_up_to_64_leaves_round_trips() {
    let all = synthetic_leaves(64);
    let roots: Vec<Hash> = (0..=64).map(|n| root(&all[..n])).collect();
    let mut count = 0;
    for n in 1..=64usize {
        let tree = &all[..n];
        for m in 1..=n {
            let proof = consistency_proof(tree, m as u64).expect("m <= n");
            verify_consistency(m as u64, n as u64, &roots[m], &roots[n], &proof)
                .unwrap_or_else(|e| panic!("consistency {m} -> {n}: {e}"));
            // A different old root (of another size) is refused.
            if m > 1 {
                assert!(
                    verify_consistency(m as u64, n as u64, &roots[m - 1], &roots[n], &proof)
                        .is_err()
                );
            }
            count += 1;
        }
        // From the empty tree: an empty proof, and nothing else.
        assert_eq!(consistency_proof(tree, 0), Ok(vec![]));
        verify_consistency(0, n as u64, &roots[0], &roots[n], &[]).expect("from empty");
        assert!(verify_consistency(0, n as u64, &roots[0], &roots[n], &[roots[1]]).is_err());
        assert_eq!(
            consistency_proof(tree, n as u64 + 1),
            Err(ProofError::OldSizeTooLarge {
                old: n as u64 + 1,
                new: n as u64
            })
        );
    }
    assert_eq!(count, 64 * 65 / 2);
}

#[test]
fn same_size_needs_same_root_and_no_proof() {
    let all = synthetic_leaves(5);
    let r = root(&all);
    verify_consistency(5, 5, &r, &r, &[]).expect("same tree");
    assert_eq!(
        verify_consistency(5, 5, &r, &root(&all[..4]), &[]),
        Err(ProofError::RootMismatch)
    );
    assert!(verify_consistency(5, 5, &r, &r, &[r]).is_err());
    assert_eq!(
        verify_consistency(6, 5, &r, &r, &[]),
        Err(ProofError::OldSizeTooLarge { old: 6, new: 5 })
    );
}

/// A tree of 1..=200 leaves with one index and one old size inside it.
fn tree_and_points() -> impl Strategy<Value = (usize, u64, usize)> {
    (1usize..=200).prop_flat_map(|n| (Just(n), 0..n as u64, 1..=n))
}

proptest! {
    #[test]
    fn altered_inclusion_proofs_fail(
        (n, index, _) in tree_and_points(),
        which in any::<prop::sample::Index>(),
        bit in 0usize..256,
        delta in 1u64..1000,
    ) {
        let leaves = synthetic_leaves(n);
        let r = root(&leaves);
        let leaf = leaves[index as usize];
        let proof = inclusion_proof(&leaves, index).expect("in range");
        prop_assert!(verify_inclusion(&leaf, index, n as u64, &proof, &r).is_ok());

        // A flipped bit in the root, the leaf, or any proof hash.
        let flip = |h: &Hash| { let mut h = *h; h[bit / 8] ^= 1 << (bit % 8); h };
        prop_assert!(verify_inclusion(&leaf, index, n as u64, &proof, &flip(&r)).is_err());
        prop_assert!(verify_inclusion(&flip(&leaf), index, n as u64, &proof, &r).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = which.index(bad.len());
            bad[i] = flip(&bad[i]);
            prop_assert!(verify_inclusion(&leaf, index, n as u64, &bad, &r).is_err());
            // A proof missing its last hash.
            prop_assert!(verify_inclusion(&leaf, index, n as u64, &proof[..proof.len() - 1], &r).is_err());
        }
        // A proof with an extra hash.
        let mut longer = proof.clone();
        longer.push(r);
        prop_assert!(verify_inclusion(&leaf, index, n as u64, &longer, &r).is_err());
        // Another index, or an index past the end.
        let other = (index + delta) % n as u64;
        if other != index {
            prop_assert!(verify_inclusion(&leaf, other, n as u64, &proof, &r).is_err());
        }
        prop_assert!(verify_inclusion(&leaf, n as u64 + delta - 1, n as u64, &proof, &r).is_err());
    }

    #[test]
    fn altered_consistency_proofs_fail(
        (n, _, m) in tree_and_points(),
        which in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        let leaves = synthetic_leaves(n);
        let (old, new) = (root(&leaves[..m]), root(&leaves));
        let proof = consistency_proof(&leaves, m as u64).expect("m <= n");
        prop_assert!(verify_consistency(m as u64, n as u64, &old, &new, &proof).is_ok());

        let flip = |h: &Hash| { let mut h = *h; h[bit / 8] ^= 1 << (bit % 8); h };
        prop_assert!(verify_consistency(m as u64, n as u64, &flip(&old), &new, &proof).is_err());
        prop_assert!(verify_consistency(m as u64, n as u64, &old, &flip(&new), &proof).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = which.index(bad.len());
            bad[i] = flip(&bad[i]);
            prop_assert!(verify_consistency(m as u64, n as u64, &old, &new, &bad).is_err());
            prop_assert!(verify_consistency(m as u64, n as u64, &old, &new, &proof[..proof.len() - 1]).is_err());
        }
        let mut longer = proof.clone();
        longer.push(new);
        prop_assert!(verify_consistency(m as u64, n as u64, &old, &new, &longer).is_err());
        // Sizes are not altered here: a proof for (m, n) can be a valid proof
        // for another pair of sizes over a differently shaped tree (proptest
        // found 1 -> 3 read as 1 -> 4), so only the roots bind it.
    }
}
