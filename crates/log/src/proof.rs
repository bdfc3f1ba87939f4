//! Roots, inclusion proofs and consistency proofs for any past tree size, built from stored
//! hashes (RFC 9162 §2.1.3.1, §2.1.4.1) and verified by the RFC 9162 §2.1.3.2 and §2.1.4.2
//! algorithms.
//!
//! Each builder first plans the subtree ranges it needs, then makes one `read_hashes` call. The
//! `*_indexes` functions expose that plan, so an async store can fetch the hashes itself and hand
//! them over in a map.

use crate::stored::{check_size, fold_subtrees, push_subtree_indexes, read_checked, split_point};
use crate::{node_hash, Error, Hash, HashReader, EMPTY_ROOT, TREE_LEVELS_MAX};

/// Most hashes an inclusion proof has: one per level.
pub const INCLUSION_PATH_MAX: usize = TREE_LEVELS_MAX;
/// Most hashes a consistency proof has: up to two per level.
pub const CONSISTENCY_PATH_MAX: usize = 2 * TREE_LEVELS_MAX;

/// Proof that leaf `leaf_index` is in the tree of `tree_size` leaves (RFC 9162 §2.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    leaf_index: u64,
    tree_size: u64,
    path: Vec<Hash>,
}

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` (§2.1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    old_size: u64,
    new_size: u64,
    path: Vec<Hash>,
}

/// A run of leaves `lo..hi` whose Merkle tree hash a proof carries.
type Range = (u64, u64);

/// Root of the tree of `size` leaves.
pub fn root_at<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Hash, Error> {
    check_size(size)?;
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    Ok(hashes_of(&[(0, size)], reader)?[0])
}

/// Stored indexes [`root_at`] reads.
pub fn root_indexes(size: u64) -> Result<Vec<u64>, Error> {
    check_size(size)?;
    Ok(indexes_of(&[(0, size)]))
}

/// Inclusion proof for leaf `leaf_index` in the tree of `tree_size` leaves.
pub fn prove_inclusion<R: HashReader + ?Sized>(
    leaf_index: u64,
    tree_size: u64,
    reader: &R,
) -> Result<InclusionProof, Error> {
    let ranges = inclusion_ranges(leaf_index, tree_size)?;
    Ok(InclusionProof {
        leaf_index,
        tree_size,
        path: hashes_of(&ranges, reader)?,
    })
}

/// Stored indexes [`prove_inclusion`] reads.
pub fn inclusion_indexes(leaf_index: u64, tree_size: u64) -> Result<Vec<u64>, Error> {
    Ok(indexes_of(&inclusion_ranges(leaf_index, tree_size)?))
}

/// Consistency proof from the tree of `old_size` leaves to the tree of `new_size` leaves.
/// Empty when `old_size` is 0 or equals `new_size`.
pub fn prove_consistency<R: HashReader + ?Sized>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<ConsistencyProof, Error> {
    let ranges = consistency_ranges(old_size, new_size)?;
    Ok(ConsistencyProof {
        old_size,
        new_size,
        path: hashes_of(&ranges, reader)?,
    })
}

/// Stored indexes [`prove_consistency`] reads.
pub fn consistency_indexes(old_size: u64, new_size: u64) -> Result<Vec<u64>, Error> {
    Ok(indexes_of(&consistency_ranges(old_size, new_size)?))
}

/// PATH(m, D[0:n]) of RFC 9162 §2.1.3.1, unrolled: the subtree beside the leaf's at each level,
/// deepest first.
fn inclusion_ranges(leaf_index: u64, tree_size: u64) -> Result<Vec<Range>, Error> {
    check_size(tree_size)?;
    if leaf_index >= tree_size {
        return Err(Error::LeafIndexRange {
            leaf_index,
            tree_size,
        });
    }
    let mut ranges = Vec::with_capacity(INCLUSION_PATH_MAX);
    let (mut lo, mut hi) = (0, tree_size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if leaf_index < mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// SUBPROOF(m, D[0:n], true) of RFC 9162 §2.1.4.1, unrolled, deepest first.
fn consistency_ranges(old_size: u64, new_size: u64) -> Result<Vec<Range>, Error> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(Error::ConsistencySizes { old_size, new_size });
    }
    let mut ranges = Vec::with_capacity(CONSISTENCY_PATH_MAX);
    if old_size == 0 {
        return Ok(ranges);
    }
    let (mut lo, mut hi, mut m, mut old_is_whole_subtree) = (0, new_size, old_size, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !old_is_whole_subtree {
                ranges.push((lo, hi));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
            m -= k;
            old_is_whole_subtree = false;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

fn indexes_of(ranges: &[Range]) -> Vec<u64> {
    let mut indexes = Vec::with_capacity(ranges.len() * 2);
    for &(lo, hi) in ranges {
        push_subtree_indexes(lo, hi, &mut indexes);
    }
    indexes
}

/// One read for all ranges, then each range's hash from its slice of the answer.
fn hashes_of<R: HashReader + ?Sized>(ranges: &[Range], reader: &R) -> Result<Vec<Hash>, Error> {
    let indexes = indexes_of(ranges);
    let hashes = read_checked(reader, &indexes)?;
    let mut rest = hashes.as_slice();
    let mut out = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        // A range of w leaves is covered by one full subtree per set bit of w.
        let (mine, after) = rest.split_at((hi - lo).count_ones() as usize);
        out.push(fold_subtrees(mine));
        rest = after;
    }
    debug_assert!(rest.is_empty());
    Ok(out)
}

impl InclusionProof {
    /// A proof received from elsewhere; `verify` decides whether it holds.
    pub fn new(leaf_index: u64, tree_size: u64, path: Vec<Hash>) -> Result<Self, Error> {
        if path.len() > INCLUSION_PATH_MAX {
            return Err(Error::ProofTooLong { length: path.len() });
        }
        Ok(InclusionProof {
            leaf_index,
            tree_size,
            path,
        })
    }

    pub fn leaf_index(&self) -> u64 {
        self.leaf_index
    }

    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The audit path, deepest sibling first (the RFC 6962 order).
    pub fn path(&self) -> &[Hash] {
        &self.path
    }

    /// The root this proof yields for `leaf` (RFC 9162 §2.1.3.2 steps 1–6).
    pub fn root_for(&self, leaf: &Hash) -> Result<Hash, Error> {
        if self.leaf_index >= self.tree_size {
            return Err(Error::LeafIndexRange {
                leaf_index: self.leaf_index,
                tree_size: self.tree_size,
            });
        }
        let (mut f_n, mut s_n) = (self.leaf_index, self.tree_size - 1);
        let mut r = *leaf;
        for p in &self.path {
            if s_n == 0 {
                return Err(Error::ProofLength);
            }
            if f_n & 1 == 1 || f_n == s_n {
                r = node_hash(p, &r);
                if f_n & 1 == 0 {
                    while f_n & 1 == 0 && f_n != 0 {
                        f_n >>= 1;
                        s_n >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        if s_n != 0 {
            return Err(Error::ProofLength);
        }
        Ok(r)
    }

    /// Ok when `leaf` is at `leaf_index` in the tree of `tree_size` leaves with root `root`.
    pub fn verify(&self, leaf: &Hash, root: &Hash) -> Result<(), Error> {
        if self.root_for(leaf)? != *root {
            return Err(Error::ProofRootMismatch);
        }
        Ok(())
    }
}

impl ConsistencyProof {
    /// A proof received from elsewhere; `verify` decides whether it holds.
    pub fn new(old_size: u64, new_size: u64, path: Vec<Hash>) -> Result<Self, Error> {
        if path.len() > CONSISTENCY_PATH_MAX {
            return Err(Error::ProofTooLong { length: path.len() });
        }
        Ok(ConsistencyProof {
            old_size,
            new_size,
            path,
        })
    }

    pub fn old_size(&self) -> u64 {
        self.old_size
    }

    pub fn new_size(&self) -> u64 {
        self.new_size
    }

    pub fn path(&self) -> &[Hash] {
        &self.path
    }

    /// Ok when the tree with root `old_root` at `old_size` is a prefix of the tree with root
    /// `new_root` at `new_size` (RFC 9162 §2.1.4.2). Growing from the empty tree needs an empty
    /// proof and `old_root` equal to [`EMPTY_ROOT`].
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), Error> {
        let (old_size, new_size) = (self.old_size, self.new_size);
        if old_size > new_size {
            return Err(Error::ConsistencySizes { old_size, new_size });
        }
        if old_size == 0 || old_size == new_size {
            if !self.path.is_empty() {
                return Err(Error::ProofLength);
            }
            let expected = if old_size == 0 { EMPTY_ROOT } else { *new_root };
            if *old_root != expected {
                return Err(Error::ProofRootMismatch);
            }
            return Ok(());
        }
        // Step 2: when old_size is a power of two, the old root is the first node of the path.
        let seed;
        let mut rest = self.path.as_slice();
        if old_size.is_power_of_two() {
            seed = *old_root;
        } else {
            let (first, tail) = rest.split_first().ok_or(Error::ProofLength)?;
            seed = *first;
            rest = tail;
        }
        let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
        while f_n & 1 == 1 {
            f_n >>= 1;
            s_n >>= 1;
        }
        let (mut f_r, mut s_r) = (seed, seed);
        for c in rest {
            if s_n == 0 {
                return Err(Error::ProofLength);
            }
            if f_n & 1 == 1 || f_n == s_n {
                f_r = node_hash(c, &f_r);
                s_r = node_hash(c, &s_r);
                if f_n & 1 == 0 {
                    while f_n & 1 == 0 && f_n != 0 {
                        f_n >>= 1;
                        s_n >>= 1;
                    }
                }
            } else {
                s_r = node_hash(&s_r, c);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        if s_n != 0 {
            return Err(Error::ProofLength);
        }
        if f_r != *old_root || s_r != *new_root {
            return Err(Error::ProofRootMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tree;

    fn log_of(size: u64) -> (Vec<Hash>, Vec<Hash>) {
        let mut tree = Tree::new();
        let mut stored = Vec::new();
        let mut roots = vec![EMPTY_ROOT];
        for i in 0..size {
            tree.append(&i.to_le_bytes(), &mut stored).unwrap();
            roots.push(tree.root());
        }
        (stored, roots)
    }

    #[test]
    fn every_proof_in_small_trees_verifies() {
        let (stored, roots) = log_of(40);
        for size in 0..=40u64 {
            assert_eq!(root_at(size, &stored).unwrap(), roots[size as usize]);
            for index in 0..size {
                let proof = prove_inclusion(index, size, &stored).unwrap();
                let leaf = crate::leaf_hash(&index.to_le_bytes());
                proof.verify(&leaf, &roots[size as usize]).unwrap();
                assert!(proof.verify(&leaf, &roots[size as usize - 1]).is_err());
            }
            for old in 0..=size {
                let proof = prove_consistency(old, size, &stored).unwrap();
                proof
                    .verify(&roots[old as usize], &roots[size as usize])
                    .unwrap();
                if old > 0 && old < size {
                    let wrong = roots[old as usize - 1];
                    assert!(proof.verify(&wrong, &roots[size as usize]).is_err());
                }
            }
        }
    }

    #[test]
    fn proofs_refuse_bad_sizes() {
        let (stored, _) = log_of(8);
        assert_eq!(
            prove_inclusion(8, 8, &stored).unwrap_err().code(),
            "leaf_index_range"
        );
        assert_eq!(
            prove_consistency(9, 8, &stored).unwrap_err().code(),
            "consistency_sizes"
        );
        assert_eq!(
            prove_inclusion(3, 9, &stored).unwrap_err().code(),
            "hash_missing"
        );
        assert!(InclusionProof::new(0, 1, vec![Hash::default(); 64]).is_err());
    }

    #[test]
    fn an_extra_or_missing_path_hash_fails() {
        let (stored, roots) = log_of(11);
        let proof = prove_inclusion(5, 11, &stored).unwrap();
        let leaf = crate::leaf_hash(&5u64.to_le_bytes());
        let mut longer = proof.path().to_vec();
        longer.push(roots[3]);
        let longer = InclusionProof::new(5, 11, longer).unwrap();
        assert!(longer.verify(&leaf, &roots[11]).is_err());
        let shorter = InclusionProof::new(5, 11, proof.path()[1..].to_vec()).unwrap();
        assert!(shorter.verify(&leaf, &roots[11]).is_err());
    }
}
