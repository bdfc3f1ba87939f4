// Builds OpenZeppelin StandardMerkleTrees for tests/usdc_oz.rs, which compares them with the
// Rust ones. Reads {"sets": [{"leaves": [[index, address, amount], ...], "document": {...}}]}
// on stdin; for each set prints OZ's own dump and proofs, and the root that OZ's `load()`
// computes from the Rust document after validating every leaf and node.
'use strict';
const fs = require('fs');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const ENCODING = ['uint256', 'address', 'uint256'];
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const results = input.sets.map(({ leaves, document }) => {
  const tree = StandardMerkleTree.of(leaves, ENCODING);
  const proofs = leaves.map((_, index) => tree.getProof(index));
  const loaded = StandardMerkleTree.load(document);
  const documentProofsVerify = Object.entries(document.proofs || {}).every(([index, proof]) =>
    StandardMerkleTree.verify(loaded.root, ENCODING, leaves[Number(index)], proof),
  );
  return { root: tree.root, dump: tree.dump(), proofs, loadedRoot: loaded.root, documentProofsVerify };
});
process.stdout.write(JSON.stringify(results));
