//! Stored hashes: every node of the tree that is the root of a *full* subtree, numbered in the
//! order a writer produces them (the `StoredHashIndex` of Go's `golang.org/x/mod/sumdb/tlog`).
//!
//! Appending leaf `n` stores its leaf hash at `stored_hash_index(0, n)` and then, at the following
//! indexes, the hash of every subtree that leaf completes. So a batch of appends writes one
//! contiguous run of indexes, and a store can keep hashes in a table keyed by index.

use std::collections::{BTreeMap, HashMap};

use crate::{node_hash, Error, Hash};

/// Largest tree size this crate handles. It keeps every stored-hash index below 2^63, so index
/// arithmetic never overflows. At 70,000 entries a second it is reached in two million years.
pub const TREE_SIZE_MAX: u64 = 1 << 62;

/// Most levels a tree of `TREE_SIZE_MAX` leaves has (its frontier and proofs are bounded by it).
pub const TREE_LEVELS_MAX: usize = 63;

/// Reads stored hashes by index. The store implements it over its hash table; tests and
/// in-memory logs use the implementations for `[Hash]` (position = index) and maps.
pub trait HashReader {
    /// Returns the hashes at `indexes`, in the same order. Functions in this crate call it once
    /// per operation, with at most a few hundred indexes.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error>;
}

/// Index of the hash of the `n`-th subtree of height `level` (leaf `n` when `level` is 0).
pub fn stored_hash_index(level: u8, n: u64) -> Result<u64, Error> {
    // The node exists in a tree of TREE_SIZE_MAX leaves iff (n + 1) << level <= 2^62.
    if level > 62 || n >= (TREE_SIZE_MAX >> level) {
        return Err(Error::StoredIndexRange);
    }
    Ok(stored_index_unchecked(level, n))
}

/// `stored_hash_index` for coordinates already known to lie in a tree of at most
/// `TREE_SIZE_MAX` leaves, where no step can overflow.
pub(crate) fn stored_index_unchecked(level: u8, n: u64) -> u64 {
    debug_assert!(((n + 1) << level) <= TREE_SIZE_MAX);
    let leaf = ((n + 1) << level) - 1;
    // Level 0's n-th hash is written at n + n/2 + n/4 + ... = 2n - popcount(n).
    2 * leaf - u64::from(leaf.count_ones()) + u64::from(level)
}

/// Inverse of [`stored_hash_index`]: the (level, n) a stored index names.
pub fn split_stored_hash_index(index: u64) -> Result<(u8, u64), Error> {
    // The last hash of a TREE_SIZE_MAX tree is at stored_hash_count(TREE_SIZE_MAX) - 1.
    if index >= 2 * TREE_SIZE_MAX - 1 {
        return Err(Error::StoredIndexRange);
    }
    // stored_index(0, n) <= 2n, so the leaf whose append wrote `index` is at least index / 2,
    // and each later leaf writes 1 + trailing_ones(leaf) hashes.
    let mut n = index / 2;
    let mut index_n = stored_index_unchecked(0, n);
    debug_assert!(index_n <= index);
    loop {
        let next = index_n + 1 + u64::from(n.trailing_ones());
        if next > index {
            break;
        }
        n += 1;
        index_n = next;
    }
    let level = index - index_n;
    debug_assert!(level <= u64::from(n.trailing_ones()));
    // Cannot truncate: level <= 62 because n < TREE_SIZE_MAX has at most 62 trailing ones.
    let level = level as u8;
    Ok((level, n >> level))
}

/// Number of hashes stored for a tree of `size` leaves: 2·size − popcount(size).
pub fn stored_hash_count(size: u64) -> Result<u64, Error> {
    check_size(size)?;
    Ok(2 * size - u64::from(size.count_ones()))
}

pub(crate) fn check_size(size: u64) -> Result<(), Error> {
    if size > TREE_SIZE_MAX {
        return Err(Error::TreeSizeRange { size });
    }
    Ok(())
}

/// Largest power of two strictly less than `n`; `n` must be at least 2.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Pushes the stored indexes of the maximal full subtrees covering leaves `lo..hi`, left to
/// right. `lo` must be aligned to the largest of them, as every range RFC 6962 recursion makes is.
pub(crate) fn push_subtree_indexes(lo: u64, hi: u64, out: &mut Vec<u64>) {
    let mut lo = lo;
    while lo < hi {
        let width = 1u64 << (63 - (hi - lo).leading_zeros());
        debug_assert_eq!(lo & (width - 1), 0, "range start must be aligned");
        // Cannot truncate: trailing_zeros of a u64 is at most 64.
        let level = width.trailing_zeros() as u8;
        out.push(stored_index_unchecked(level, lo >> level));
        lo += width;
    }
}

/// Merkle tree hash of subtrees given left to right: folds right to left (RFC 6962 §2.1).
pub(crate) fn fold_subtrees(hashes: &[Hash]) -> Hash {
    // Cannot fail: every caller passes the subtrees of a non-empty range (or a non-empty
    // frontier), and a range of w >= 1 leaves has popcount(w) >= 1 subtrees.
    let (last, rest) = hashes
        .split_last()
        .expect("a non-empty range has at least one subtree");
    rest.iter()
        .rev()
        .fold(*last, |right, left| node_hash(left, &right))
}

/// Calls the reader once and checks it kept its side of the contract.
pub(crate) fn read_checked<R: HashReader + ?Sized>(
    reader: &R,
    indexes: &[u64],
) -> Result<Vec<Hash>, Error> {
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(Error::HashReaderCount {
            asked: indexes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.get(i))
                    .copied()
                    .ok_or(Error::HashMissing { index })
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        self.as_slice().read_hashes(indexes)
    }
}

/// Looks up each of `indexes` with `get`, naming the first one missing.
fn read_each(indexes: &[u64], get: impl Fn(&u64) -> Option<Hash>) -> Result<Vec<Hash>, Error> {
    indexes
        .iter()
        .map(|index| get(index).ok_or(Error::HashMissing { index: *index }))
        .collect()
}

impl<S: std::hash::BuildHasher> HashReader for HashMap<u64, Hash, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        read_each(indexes, |index| self.get(index).copied())
    }
}

impl HashReader for BTreeMap<u64, Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        read_each(indexes, |index| self.get(index).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's StoredHashIndex, transcribed loop for loop, as the reference.
    fn go_stored_hash_index(level: u8, mut n: u64) -> u64 {
        for _ in 0..level {
            n = 2 * n + 1;
        }
        let mut i = 0;
        while n > 0 {
            i += n;
            n >>= 1;
        }
        i + u64::from(level)
    }

    #[test]
    fn index_matches_go_and_splits_back() {
        for level in 0..10u8 {
            for n in 0..300u64 {
                let index = stored_hash_index(level, n).unwrap();
                assert_eq!(index, go_stored_hash_index(level, n), "level {level} n {n}");
                assert_eq!(split_stored_hash_index(index).unwrap(), (level, n));
            }
        }
        // Every index up to a bound names exactly one (level, n).
        for index in 0..5000 {
            let (level, n) = split_stored_hash_index(index).unwrap();
            assert_eq!(stored_hash_index(level, n).unwrap(), index);
        }
    }

    #[test]
    fn count_and_range_limits() {
        assert_eq!(stored_hash_count(0).unwrap(), 0);
        assert_eq!(stored_hash_count(1).unwrap(), 1);
        assert_eq!(stored_hash_count(2).unwrap(), 3);
        assert_eq!(stored_hash_count(3).unwrap(), 4);
        assert_eq!(stored_hash_count(4).unwrap(), 7);
        assert!(stored_hash_count(TREE_SIZE_MAX + 1).is_err());
        assert!(stored_hash_index(64, 0).is_err());
        assert!(stored_hash_index(0, TREE_SIZE_MAX).is_err());
        assert!(stored_hash_index(62, 0).is_ok());
        assert!(stored_hash_index(62, 1).is_err());
        assert!(split_stored_hash_index(u64::MAX).is_err());
        let last = stored_hash_count(TREE_SIZE_MAX).unwrap() - 1;
        assert_eq!(split_stored_hash_index(last).unwrap(), (62, 0));
    }

    #[test]
    fn split_point_is_largest_power_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(1 << 40), 1 << 39);
        assert_eq!(split_point((1 << 40) + 1), 1 << 40);
    }

    #[test]
    fn readers_report_missing_hashes() {
        let hashes = vec![Hash([1; 32]), Hash([2; 32])];
        assert_eq!(
            hashes.read_hashes(&[1, 0]).unwrap(),
            vec![Hash([2; 32]), Hash([1; 32])]
        );
        assert_eq!(
            hashes.read_hashes(&[2]).unwrap_err(),
            Error::HashMissing { index: 2 }
        );
        let map: HashMap<u64, Hash> = [(7, Hash([7; 32]))].into_iter().collect();
        assert_eq!(map.read_hashes(&[7]).unwrap(), vec![Hash([7; 32])]);
        assert!(map.read_hashes(&[8]).is_err());
    }
}
