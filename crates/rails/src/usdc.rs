//! The USDC rail: a Merkle distributor whose root goes on chain (rule L5) and from which each
//! member claims with a proof (rule D4).
//!
//! The tree is OpenZeppelin's `StandardMerkleTree` (`@openzeppelin/merkle-tree` v1) over leaves
//! `(uint256 index, address account, uint256 amount)`, amounts in USDC base units (6 decimals,
//! so one unit is one micro-USD and no conversion happens):
//! - leaf hash: `keccak256(keccak256(abi.encode(index, account, amount)))`;
//! - node hash: `keccak256` of the two children, smaller first (byte order);
//! - layout: leaf hashes sorted ascending, stored from the end of an array of `2n − 1` nodes
//!   (the smallest last), each internal node `i` the hash of nodes `2i + 1` and `2i + 2`; the
//!   root is node 0;
//! - proof: the sibling of each node on the path from the leaf up, leaf side first.
//!
//! The index is the claim index a distributor contract marks as claimed: `0..n` in the order
//! of the run's lines. `tests/usdc_oz.rs` checks roots and proofs against OpenZeppelin's own
//! package on random sets of over a thousand leaves.
//!
//! ## `usdc-distribution.json`
//!
//! Exactly what OZ's `StandardMerkleTree.dump()` writes, so OZ's `load()` reads it, plus
//! members that `load()` ignores:
//!
//! ```text
//! { "format": "standard-v1",
//!   "leafEncoding": ["uint256", "address", "uint256"],
//!   "tree": ["0x<node 0 = root>", …],                      // 2n − 1 nodes, lowercase hex
//!   "values": [{"value": ["<index>", "0x<address>", "<amount>"], "treeIndex": <i>}, …],
//!   "runId": "2026-01r1",
//!   "root": "0x…",
//!   "totalMicros": "<sum of amounts>",
//!   "proofs": {"<index>": ["0x…", …], …} }                  // only with proofs on
//! ```
//!
//! Numbers are decimal strings (OZ refuses JS numbers), addresses lowercase hex. `proofs` is
//! keyed by claim index, not member, so the public document does not link member ids to
//! addresses. It is optional because it is big: with 10 million leaves the proofs alone take
//! about 16 GB, while `tree` (about 1.4 GB) already lets anyone derive any proof. At that scale
//! the exchange leaves them out and hands each member its [`Claim`] through the wallet.

use crate::{check_line, Destination, Error, PayoutLine, Rail, RailFile, RunId, UsdcAddress};
use assay_core::{MemberId, Micros};
use sha2::{Digest, Sha256};
use std::io::Write;
use tiny_keccak::{Hasher, Keccak};

/// Most leaves in one distribution: tree positions are stored as `u32` (2n − 1 < 2³²), and
/// 2³⁰ leaves already need 64 GiB of nodes, far past the 10-million-member target.
pub const LEAVES_MAX: usize = 1 << 30;
/// OZ's leaf encoding for a Merkle distributor.
pub const LEAF_ENCODING: [&str; 3] = ["uint256", "address", "uint256"];
/// The document's file name.
pub const DOCUMENT_NAME: &str = "usdc-distribution.json";

pub(crate) fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak::v256();
    hasher.update(data);
    let mut out = [0; 32];
    hasher.finalize(&mut out);
    out
}

/// One leaf of the distribution.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The claim index, `0..n` in line order.
    pub index: u64,
    pub account: UsdcAddress,
    /// In USDC base units, which are micro-USD.
    pub amount: Micros,
}

impl Leaf {
    /// `keccak256(keccak256(abi.encode(index, account, amount)))`.
    pub fn hash(&self) -> [u8; 32] {
        let mut encoded = [0u8; 96];
        encoded[24..32].copy_from_slice(&self.index.to_be_bytes());
        encoded[44..64].copy_from_slice(self.account.as_bytes());
        encoded[88..96].copy_from_slice(&self.amount.get().to_be_bytes());
        keccak256(&keccak256(&encoded))
    }
}

/// `keccak256` of the pair, smaller first.
pub fn node_hash(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    let mut hasher = Keccak::v256();
    hasher.update(first);
    hasher.update(second);
    let mut out = [0; 32];
    hasher.finalize(&mut out);
    out
}

/// Whether `proof` leads from `leaf` to `root` (what the distributor contract checks).
pub fn verify(root: &[u8; 32], leaf: &Leaf, proof: &[[u8; 32]]) -> bool {
    let computed = proof
        .iter()
        .fold(leaf.hash(), |node, sibling| node_hash(&node, sibling));
    &computed == root
}

/// What a member needs to claim: the leaf and its proof. Delivered privately, to the wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub member: MemberId,
    pub leaf: Leaf,
    pub proof: Vec<[u8; 32]>,
}

/// Whether the document carries every leaf's proof (see the module documentation on size).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DocumentOptions {
    pub proofs: bool,
}

/// A built distribution: leaves in line order and the tree over them.
#[derive(Clone, Debug)]
pub struct Distribution {
    run: RunId,
    leaves: Vec<Leaf>,
    members: Vec<MemberId>,
    /// `2n − 1` nodes; node 0 is the root.
    tree: Vec<[u8; 32]>,
    /// Position in `tree` of each leaf, by claim index.
    tree_index: Vec<u32>,
    total: Micros,
}

impl Distribution {
    /// Builds the tree over the run's USDC lines, claim indexes in line order. Refuses a line
    /// that is not a USDC destination or pays zero, and an empty run (OZ has no empty tree).
    pub fn build<'a>(
        run: RunId,
        lines: impl IntoIterator<Item = &'a PayoutLine>,
    ) -> Result<Distribution, Error> {
        let lines = lines.into_iter();
        let capacity = lines.size_hint().0.min(LEAVES_MAX);
        let mut leaves = Vec::with_capacity(capacity);
        let mut members = Vec::with_capacity(capacity);
        let mut total = Micros::ZERO;
        for line in lines {
            check_line(line, Rail::Usdc)?;
            let Destination::Usdc(account) = line.destination else {
                unreachable!("check_line confirmed the USDC rail");
            };
            if leaves.len() == LEAVES_MAX {
                return Err(Error::TooManyLines {
                    rail: Rail::Usdc,
                    limit: LEAVES_MAX as u64,
                });
            }
            total = total.checked_add(line.amount)?;
            leaves.push(Leaf {
                index: leaves.len() as u64,
                account,
                amount: line.amount,
            });
            members.push(line.member);
        }
        if leaves.is_empty() {
            return Err(Error::UsdcEmpty);
        }

        // Sort by hash as OZ does; ties cannot happen (indexes differ), and the index breaks
        // them the way OZ's stable sort would if they did.
        let mut hashed: Vec<([u8; 32], u32)> = leaves
            .iter()
            .map(|leaf| (leaf.hash(), leaf.index as u32))
            .collect();
        hashed.sort_unstable();
        let node_count = 2 * leaves.len() - 1;
        let mut tree = vec![[0u8; 32]; node_count];
        let mut tree_index = vec![0u32; leaves.len()];
        for (position, (hash, index)) in hashed.into_iter().enumerate() {
            let node = node_count - 1 - position;
            tree[node] = hash;
            // node < 2n − 1 ≤ 2³¹ by LEAVES_MAX.
            tree_index[index as usize] = node as u32;
        }
        for node in (0..node_count - leaves.len()).rev() {
            tree[node] = node_hash(&tree[2 * node + 1], &tree[2 * node + 2]);
        }
        Ok(Distribution {
            run,
            leaves,
            members,
            tree,
            tree_index,
            total,
        })
    }

    pub fn root(&self) -> [u8; 32] {
        self.tree[0]
    }

    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    pub fn total(&self) -> Micros {
        self.total
    }

    pub fn leaves(&self) -> &[Leaf] {
        &self.leaves
    }

    /// The proof of the leaf with claim index `index`, `None` past the last leaf.
    pub fn proof(&self, index: usize) -> Option<Vec<[u8; 32]>> {
        let mut node = *self.tree_index.get(index)? as usize;
        let mut proof = Vec::with_capacity(usize::BITS as usize);
        while node > 0 {
            let sibling = if node % 2 == 1 { node + 1 } else { node - 1 };
            proof.push(self.tree[sibling]);
            node = (node - 1) / 2;
        }
        Some(proof)
    }

    /// The proof of a leaf known to exist (every caller below iterates over the leaves).
    fn proof_of_leaf(&self, index: usize) -> Vec<[u8; 32]> {
        self.proof(index)
            .expect("index ranges over the leaves, each of which has a proof")
    }

    /// Every member's claim, in line order.
    pub fn claims(&self) -> impl Iterator<Item = Claim> + '_ {
        self.leaves
            .iter()
            .zip(&self.members)
            .enumerate()
            .map(|(index, (leaf, member))| Claim {
                member: *member,
                leaf: *leaf,
                proof: self.proof_of_leaf(index),
            })
    }

    /// Streams `usdc-distribution.json` into `out` and returns the SHA-256 of what it wrote.
    pub fn write_document(
        &self,
        options: DocumentOptions,
        out: &mut impl Write,
    ) -> Result<[u8; 32], Error> {
        let mut sink = HashingSink::new(out);
        sink.put(b"{\"format\":\"standard-v1\",\"leafEncoding\":[\"uint256\",\"address\",\"uint256\"],\n\"tree\":[")?;
        for (position, node) in self.tree.iter().enumerate() {
            if position > 0 {
                sink.put(b",\n")?;
            }
            sink.hash_hex(node)?;
        }
        sink.put(b"],\n\"values\":[")?;
        for (index, leaf) in self.leaves.iter().enumerate() {
            if index > 0 {
                sink.put(b",\n")?;
            }
            sink.put(b"{\"value\":[\"")?;
            sink.decimal(leaf.index)?;
            sink.put(b"\",\"0x")?;
            sink.hex(leaf.account.as_bytes())?;
            sink.put(b"\",\"")?;
            sink.decimal(leaf.amount.get())?;
            sink.put(b"\"],\"treeIndex\":")?;
            sink.decimal(self.tree_index[index].into())?;
            sink.put(b"}")?;
        }
        sink.put(b"],\n\"runId\":\"")?;
        sink.put(self.run.to_string().as_bytes())?;
        sink.put(b"\",\n\"root\":")?;
        sink.hash_hex(&self.root())?;
        sink.put(b",\n\"totalMicros\":\"")?;
        sink.decimal(self.total.get())?;
        sink.put(b"\"")?;
        if options.proofs {
            sink.put(b",\n\"proofs\":{")?;
            for index in 0..self.leaves.len() {
                sink.put(if index > 0 { b",\n\"" } else { b"\n\"" })?;
                sink.decimal(index as u64)?;
                sink.put(b"\":[")?;
                for (step, sibling) in self.proof_of_leaf(index).iter().enumerate() {
                    if step > 0 {
                        sink.put(b",")?;
                    }
                    sink.hash_hex(sibling)?;
                }
                sink.put(b"]")?;
            }
            sink.put(b"}")?;
        }
        sink.put(b"}\n")?;
        sink.finish()
    }

    /// The document in memory, as a [`RailFile`] named `usdc-distribution.json`.
    pub fn document(&self, options: DocumentOptions) -> Result<RailFile, Error> {
        let mut bytes = Vec::new();
        self.write_document(options, &mut bytes)?;
        Ok(RailFile::new(
            Rail::Usdc,
            DOCUMENT_NAME.to_string(),
            bytes,
            self.leaves.len() as u64,
            self.total,
        ))
    }
}

/// Bytes of output gathered before each write to the caller's sink.
const SINK_BUFFER_BYTES: usize = 1 << 16;

/// Buffers output, hashes it, and passes it to the caller's writer.
struct HashingSink<'w, W: Write> {
    out: &'w mut W,
    buffer: Vec<u8>,
    hasher: Sha256,
}

impl<'w, W: Write> HashingSink<'w, W> {
    fn new(out: &'w mut W) -> Self {
        HashingSink {
            out,
            buffer: Vec::with_capacity(SINK_BUFFER_BYTES),
            hasher: Sha256::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= SINK_BUFFER_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn hex(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut text = [0u8; 64];
        let text = &mut text[..2 * bytes.len()];
        hex::encode_to_slice(bytes, text).expect("the buffer is twice the input's length");
        self.put(text)
    }

    /// `"0x…"` with quotes.
    fn hash_hex(&mut self, hash: &[u8; 32]) -> Result<(), Error> {
        self.put(b"\"0x")?;
        self.hex(hash)?;
        self.put(b"\"")
    }

    fn decimal(&mut self, value: u64) -> Result<(), Error> {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = value;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.put(&digits[start..])
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.hasher.update(&self.buffer);
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<[u8; 32], Error> {
        self.flush()?;
        Ok(self.hasher.finalize().into())
    }
}
