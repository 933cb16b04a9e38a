//! RFC 6962 Merkle tree hashing with the RFC 9162 proof algorithms.
//!
//! Hashing follows [RFC 6962 §2.1]: a leaf is `SHA-256(0x00 ‖ entry)`, a node
//! is `SHA-256(0x01 ‖ left ‖ right)`, the empty tree is `SHA-256("")`, and a
//! tree of `n > 1` leaves splits at `k`, the largest power of two below `n`.
//! Proofs are generated with the RFC's `PATH` and `SUBPROOF` and verified with
//! the algorithms of [RFC 9162 §2.1.3.2] (inclusion) and [§2.1.4.2]
//! (consistency), step for step.
//!
//! Everything here works on leaf *hashes*: hash each entry once with
//! [`leaf_hash`], then build roots and proofs from the slice. [`CompactTree`]
//! keeps only the `O(log n)` subtree roots needed to append and to take the
//! root at every size, which is how the log and the verifier walk a
//! transcript in one pass.
//!
//! [RFC 6962 §2.1]: https://www.rfc-editor.org/rfc/rfc6962#section-2.1
//! [RFC 9162 §2.1.3.2]: https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
//! [§2.1.4.2]: https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.2

use ring::digest::{Context, SHA256};

/// The length of a SHA-256 hash in bytes.
pub const HASH_LEN: usize = 32;

/// A SHA-256 hash: a leaf hash, a node hash or a tree root.
pub type Hash = [u8; HASH_LEN];

/// Why a Merkle proof was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("RFC 9162 §2.1.3.2: leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The old tree is larger than the new one.
    #[error("RFC 9162 §2.1.4.2: old tree size {old} is larger than new tree size {new}")]
    OldSizeTooLarge {
        /// The first (old) tree size.
        old: u64,
        /// The second (new) tree size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for the sizes and index given.
    #[error("RFC 9162 §2.1: the proof has the wrong number of hashes ({len}) for this tree")]
    WrongLength {
        /// How many hashes the proof holds.
        len: usize,
    },
    /// The proof does not lead to the root (or roots) given.
    #[error("RFC 9162 §2.1: the proof does not lead to the given root hash")]
    RootMismatch,
}

/// `SHA-256("")`, the root of the empty tree.
pub fn empty_root() -> Hash {
    finish(Context::new(&SHA256))
}

/// `SHA-256(0x00 ‖ entry)`: the hash of one log entry.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0x00]);
    ctx.update(entry);
    finish(ctx)
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_LEN];
    buf[0] = 0x01;
    buf[1..1 + HASH_LEN].copy_from_slice(left);
    buf[1 + HASH_LEN..].copy_from_slice(right);
    let mut ctx = Context::new(&SHA256);
    ctx.update(&buf);
    finish(ctx)
}

fn finish(ctx: Context) -> Hash {
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The largest power of two strictly below `n`; `n` must be at least 2.
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// `MTH(D[n])`: the root of the tree whose leaf hashes are `leaves`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// `PATH(m, D[n])`: the inclusion proof for leaf `index` in the tree of `leaves`.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] when `index >= leaves.len()`.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    inclusion_with(leaves.len(), index, &|lo, hi| root(&leaves[lo..hi]))
}

/// `SUBPROOF(m, D[n], true)`: the consistency proof from the tree of the first
/// `old_size` leaves to the tree of all `leaves`.
///
/// The proof is empty when `old_size` is 0 or equals the tree size: there is
/// nothing to prove (C2SP tlog-witness: "The proof MUST be empty if the old
/// size is zero").
///
/// # Errors
/// [`ProofError::OldSizeTooLarge`] when `old_size > leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, ProofError> {
    consistency_with(leaves.len(), old_size, &|lo, hi| root(&leaves[lo..hi]))
}

/// The MTH of the leaves `[lo, hi)`, however it is computed.
type Mth<'a> = &'a dyn Fn(usize, usize) -> Hash;

fn inclusion_with(n: usize, index: u64, mth: Mth<'_>) -> Result<Vec<Hash>, ProofError> {
    let m = usize::try_from(index)
        .ok()
        .filter(|&m| m < n)
        .ok_or(ProofError::IndexOutOfRange {
            index,
            size: n as u64,
        })?;
    let mut proof = Vec::new();
    path(m, 0, n, mth, &mut proof);
    Ok(proof)
}

fn consistency_with(n: usize, old_size: u64, mth: Mth<'_>) -> Result<Vec<Hash>, ProofError> {
    let m =
        usize::try_from(old_size)
            .ok()
            .filter(|&m| m <= n)
            .ok_or(ProofError::OldSizeTooLarge {
                old: old_size,
                new: n as u64,
            })?;
    let mut proof = Vec::new();
    if m > 0 && m < n {
        subproof(m, 0, n, true, mth, &mut proof);
    }
    Ok(proof)
}

/// `PATH(m, D[lo:hi])`, appended to `out` leaf-side first.
fn path(m: usize, lo: usize, hi: usize, mth: Mth<'_>, out: &mut Vec<Hash>) {
    let n = hi - lo;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        // PATH(m, D[0:k]) : MTH(D[k:n])
        path(m, lo, lo + k, mth, out);
        out.push(mth(lo + k, hi));
    } else {
        // PATH(m - k, D[k:n]) : MTH(D[0:k])
        path(m - k, lo + k, hi, mth, out);
        out.push(mth(lo, lo + k));
    }
}

/// `SUBPROOF(m, D[lo:hi], complete)`, appended to `out`.
fn subproof(m: usize, lo: usize, hi: usize, complete: bool, mth: Mth<'_>, out: &mut Vec<Hash>) {
    let n = hi - lo;
    if m == n {
        // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
        if !complete {
            out.push(mth(lo, hi));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
        subproof(m, lo, lo + k, complete, mth, out);
        out.push(mth(lo + k, hi));
    } else {
        // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
        subproof(m - k, lo + k, hi, false, mth, out);
        out.push(mth(lo, lo + k));
    }
}

/// Verifies an inclusion proof, exactly as RFC 9162 §2.1.3.2.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`], [`ProofError::WrongLength`] or
/// [`ProofError::RootMismatch`].
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // 1. Fail if index >= size. Set fn = index, sn = size - 1, r = leaf hash.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    // 2. For each p in the proof:
    for p in proof {
        // a. If sn is 0, the proof is too long.
        if s == 0 {
            return Err(ProofError::WrongLength { len: proof.len() });
        }
        // b. If LSB(fn) is set or fn = sn: r = H(1 ‖ p ‖ r), and if LSB(fn)
        //    is unset, shift both right until LSB(fn) is set or fn = 0.
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            // Otherwise r = H(1 ‖ r ‖ p).
            r = node_hash(&r, p);
        }
        // c. Shift both right once.
        f >>= 1;
        s >>= 1;
    }
    // 3. Accept iff sn = 0 and r = root.
    if s != 0 {
        return Err(ProofError::WrongLength { len: proof.len() });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof, exactly as RFC 9162 §2.1.4.2.
///
/// For `old_size == new_size` the proof must be empty and the roots equal;
/// for `old_size == 0` the proof must be empty (every tree extends the empty
/// tree).
///
/// # Errors
/// [`ProofError::OldSizeTooLarge`], [`ProofError::WrongLength`] or
/// [`ProofError::RootMismatch`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeTooLarge {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength { len: proof.len() });
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    // 1. An empty proof for 0 < first < second fails.
    if proof.is_empty() {
        return Err(ProofError::WrongLength { len: 0 });
    }
    // 2. If first is an exact power of 2, prepend first_hash to the proof.
    let (first, rest): (&Hash, &[Hash]) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (&proof[0], &proof[1..])
    };
    // 3.–4. fn = first - 1, sn = second - 1; shift both right while LSB(fn).
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // 5. fr = sr = the proof's first hash.
    let (mut fr, mut sr) = (*first, *first);
    // 6. For each later c:
    for c in rest {
        // a. If sn is 0, the proof is too long.
        if s == 0 {
            return Err(ProofError::WrongLength { len: proof.len() });
        }
        // b. If LSB(fn) is set or fn = sn: fr = H(1 ‖ c ‖ fr), sr = H(1 ‖ c ‖ sr),
        //    and if LSB(fn) is unset, shift both until LSB(fn) is set or fn = 0.
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            // Otherwise sr = H(1 ‖ sr ‖ c).
            sr = node_hash(&sr, c);
        }
        // c. Shift both right once.
        f >>= 1;
        s >>= 1;
    }
    // 7. Accept iff fr = first_hash, sr = second_hash and sn = 0.
    if s != 0 {
        return Err(ProofError::WrongLength { len: proof.len() });
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// An append-only Merkle tree that keeps only the roots of its perfect
/// subtrees (a *compact range*): `O(log n)` memory, amortized one node hash
/// per append, and the RFC 6962 root at the current size on demand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactTree {
    size: u64,
    /// Roots of the perfect subtrees covering `[0, size)`, largest first:
    /// one per set bit of `size`.
    nodes: Vec<Hash>,
}

impl CompactTree {
    /// The empty tree.
    pub fn new() -> CompactTree {
        CompactTree::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            // A perfect subtree of the same height is complete: merge them.
            let Some(left) = self.nodes.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.nodes.push(hash);
        self.size += 1;
    }

    /// MTH of the leaves appended so far.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&last) = nodes.next() else {
            return empty_root();
        };
        // RFC 6962 splits at the largest power of two, so the tree is the
        // perfect subtrees folded from the right.
        nodes.fold(last, |right, left| node_hash(left, &right))
    }
}

/// A Merkle tree that keeps every perfect subtree's root, level by level:
/// about `2n` hashes of memory, amortized one node hash per append, and the
/// root at any size or any proof in `O(log² n)` hashes.
///
/// RFC 6962's recursion only ever asks for the MTH of ranges `[lo, hi)`
/// whose left halves are perfect, aligned subtrees, so every hash it needs
/// is either stored here or a short fold of stored ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    /// `levels[0]` holds the leaf hashes; `levels[h][i]` the root of leaves
    /// `[i·2^h, (i+1)·2^h)`, once all of them are present.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// The tree of these leaf hashes.
    pub fn from_leaves(leaves: &[Hash]) -> Tree {
        let mut tree = Tree::new();
        for leaf in leaves {
            tree.push(*leaf);
        }
        tree
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], |l| l.as_slice())
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut h = 0;
        loop {
            if self.levels.len() == h {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[h];
            level.push(hash);
            if level.len() % 2 == 1 {
                return;
            }
            hash = node_hash(&level[level.len() - 2], &level[level.len() - 1]);
            h += 1;
        }
    }

    /// MTH of the leaves `[lo, hi)`, which must be inside the tree.
    fn mth(&self, lo: usize, hi: usize) -> Hash {
        let n = hi - lo;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && lo % n == 0 {
            let h = n.trailing_zeros() as usize;
            if let Some(hash) = self.levels.get(h).and_then(|l| l.get(lo >> h)) {
                return *hash;
            }
        }
        let k = split(n);
        node_hash(&self.mth(lo, lo + k), &self.mth(lo + k, hi))
    }

    /// MTH of all the leaves.
    pub fn root(&self) -> Hash {
        self.mth(0, self.leaves().len())
    }

    /// MTH of the first `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::OldSizeTooLarge`] when `size` is past the end.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        let n = self.fit(size)?;
        Ok(self.mth(0, n))
    }

    fn fit(&self, size: u64) -> Result<usize, ProofError> {
        usize::try_from(size)
            .ok()
            .filter(|&n| n <= self.leaves().len())
            .ok_or(ProofError::OldSizeTooLarge {
                old: size,
                new: self.size(),
            })
    }

    /// `PATH(index, D[size])`: the inclusion proof of a leaf in the tree of
    /// the first `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::OldSizeTooLarge`] when `size` is past the end;
    /// [`ProofError::IndexOutOfRange`] when `index >= size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        let n = self.fit(size)?;
        inclusion_with(n, index, &|lo, hi| self.mth(lo, hi))
    }

    /// `SUBPROOF(old, D[new], true)`: the consistency proof between the trees
    /// of the first `old` and `new` leaves.
    ///
    /// # Errors
    /// [`ProofError::OldSizeTooLarge`] unless `old <= new <= size`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        let n = self.fit(new)?;
        consistency_with(n, old, &|lo, hi| self.mth(lo, hi))
    }
}
