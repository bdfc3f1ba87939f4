//! The writer's view of the log: a right-edge frontier of full subtrees, grown one leaf at a time.

use crate::stored::{check_size, fold_subtrees, push_subtree_indexes, read_checked};
use crate::{leaf_hash, node_hash, Error, Hash, HashReader, EMPTY_ROOT, TREE_SIZE_MAX};

/// Largest entry a log holds: entry bundles prefix each entry with a big-endian u16 length.
pub const ENTRY_BYTES_MAX: usize = u16::MAX as usize;

/// An append-only RFC 6962 Merkle tree that keeps only its frontier: the roots of the maximal
/// full subtrees along the right edge, one per set bit of `size` (at most 63 hashes).
///
/// Invariant: `frontier.len() == size.count_ones()`, largest (leftmost) subtree first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    size: u64,
    frontier: Vec<Hash>,
}

/// Hashes a batch of appends produced, to be written at consecutive stored-hash indexes
/// starting at `start_index` (see [`crate::stored_hash_index`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHashes {
    pub start_index: u64,
    pub hashes: Vec<Hash>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            size: 0,
            frontier: Vec::with_capacity(crate::TREE_LEVELS_MAX),
        }
    }

    /// Rebuilds the frontier of a tree of `size` leaves from stored hashes (one read of at most
    /// 63 hashes), so that a writer restarts without replaying entries.
    pub fn from_reader<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Tree, Error> {
        check_size(size)?;
        let mut indexes = Vec::new();
        push_subtree_indexes(0, size, &mut indexes);
        let mut frontier = read_checked(reader, &indexes)?;
        frontier.reserve(crate::TREE_LEVELS_MAX.saturating_sub(frontier.len()));
        Ok(Tree { size, frontier })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the full subtrees on the right edge, largest first.
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// Root hash at the current size: at most 62 node hashes, no allocation.
    pub fn root(&self) -> Hash {
        if self.frontier.is_empty() {
            EMPTY_ROOT
        } else {
            fold_subtrees(&self.frontier)
        }
    }

    /// Appends one entry and pushes the hashes to store onto `stored` (its leaf hash, then the
    /// roots of the subtrees it completes). Returns the entry's leaf index.
    pub fn append(&mut self, entry: &[u8], stored: &mut Vec<Hash>) -> Result<u64, Error> {
        if entry.len() > ENTRY_BYTES_MAX {
            return Err(Error::EntryTooLarge {
                length: entry.len(),
            });
        }
        self.append_leaf_hash(leaf_hash(entry), stored)
    }

    /// Appends a leaf whose hash the caller computed (for instance in parallel).
    pub fn append_leaf_hash(&mut self, leaf: Hash, stored: &mut Vec<Hash>) -> Result<u64, Error> {
        if self.size >= TREE_SIZE_MAX {
            return Err(Error::TreeSizeRange {
                size: self.size.saturating_add(1),
            });
        }
        let index = self.size;
        stored.push(leaf);
        let mut hash = leaf;
        // Each trailing one bit of the old size is a full subtree this leaf completes.
        for _ in 0..index.trailing_ones() {
            // Cannot fail: the invariant gives one frontier hash per set bit of the old size,
            // and we pop one per trailing one bit.
            let left = self
                .frontier
                .pop()
                .expect("frontier holds one hash per set bit of size");
            hash = node_hash(&left, &hash);
            stored.push(hash);
        }
        self.frontier.push(hash);
        self.size += 1;
        debug_assert_eq!(self.frontier.len(), self.size.count_ones() as usize);
        Ok(index)
    }

    /// Appends a batch atomically: if any entry is refused, the tree is left unchanged.
    pub fn append_batch<'a, I>(&mut self, entries: I) -> Result<StoredHashes, Error>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        // The next leaf's hash goes right after the hashes already stored.
        let start_index = crate::stored_hash_count(self.size)?;
        let entries = entries.into_iter();
        // About two stored hashes per leaf on average.
        let mut hashes = Vec::with_capacity(entries.size_hint().0.saturating_mul(2));
        let before = self.clone();
        for entry in entries {
            if let Err(error) = self.append(entry, &mut hashes) {
                *self = before;
                return Err(error);
            }
        }
        Ok(StoredHashes {
            start_index,
            hashes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{split_stored_hash_index, stored_hash_count};

    /// RFC 6962 §2.1 MTH, written as the recursion in the RFC.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = crate::stored::split_point(n as u64) as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn roots_match_the_rfc_recursion_for_every_size_to_1000() {
        let mut tree = Tree::new();
        let mut leaves = Vec::new();
        let mut stored = Vec::new();
        assert_eq!(tree.root(), EMPTY_ROOT);
        for i in 0..1000u32 {
            let entry = i.to_be_bytes();
            leaves.push(leaf_hash(&entry));
            assert_eq!(tree.append(&entry, &mut stored).unwrap(), u64::from(i));
            assert_eq!(tree.root(), naive_root(&leaves), "size {}", i + 1);
            assert_eq!(stored.len() as u64, stored_hash_count(tree.size()).unwrap());
        }
    }

    #[test]
    fn stored_hashes_sit_at_their_index() {
        let mut tree = Tree::new();
        let mut stored = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..300u32 {
            leaves.push(leaf_hash(&i.to_be_bytes()));
            tree.append(&i.to_be_bytes(), &mut stored).unwrap();
        }
        for (index, hash) in stored.iter().enumerate() {
            let (level, n) = split_stored_hash_index(index as u64).unwrap();
            let lo = (n << level) as usize;
            let hi = ((n + 1) << level) as usize;
            assert_eq!(*hash, naive_root(&leaves[lo..hi]), "index {index}");
        }
    }

    #[test]
    fn batch_reports_start_index_and_reload_matches() {
        let mut tree = Tree::new();
        let mut all = Vec::new();
        for batch in [3usize, 1, 0, 17, 64, 5] {
            let entries: Vec<Vec<u8>> = (0..batch).map(|i| vec![i as u8; i]).collect();
            let out = tree
                .append_batch(entries.iter().map(Vec::as_slice))
                .unwrap();
            assert_eq!(out.start_index, all.len() as u64);
            all.extend(out.hashes);
            let reloaded = Tree::from_reader(tree.size(), &all).unwrap();
            assert_eq!(reloaded, tree);
        }
    }

    #[test]
    fn batch_with_an_oversized_entry_changes_nothing() {
        let mut tree = Tree::new();
        tree.append_batch([b"a".as_slice()]).unwrap();
        let before = tree.clone();
        let big = vec![0u8; ENTRY_BYTES_MAX + 1];
        let error = tree
            .append_batch([b"b".as_slice(), big.as_slice()])
            .unwrap_err();
        assert_eq!(error.code(), "entry_too_large");
        assert_eq!(tree, before);
        let largest = vec![0u8; ENTRY_BYTES_MAX];
        assert!(tree.append(&largest, &mut Vec::new()).is_ok());
    }
}
