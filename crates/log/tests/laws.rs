//! Laws of the log, as property tests: roots are RFC 6962 roots, proofs verify for every tree
//! size and fail when anything is flipped, encodings round-trip, parsers never panic.

use std::sync::OnceLock;

use assay_log::{
    encode_entry_bundle, leaf_hash, node_hash, parse_entry_bundle, prove_consistency,
    prove_inclusion, root_at, Checkpoint, ConsistencyProof, Hash, InclusionProof, Note, NoteSigner,
    TileId, Tree, VerifierKey, EMPTY_ROOT,
};
use proptest::prelude::*;

/// Leaves in the shared test log; proofs are drawn from every size up to it.
const LOG_SIZE: u64 = 3000;
const CASES: u32 = 256;

struct Log {
    stored: Vec<Hash>,
    /// roots[n] is the root of the first n leaves.
    roots: Vec<Hash>,
}

fn entry(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut tree = Tree::new();
        let mut stored = Vec::new();
        let mut roots = vec![EMPTY_ROOT];
        for i in 0..LOG_SIZE {
            tree.append(&entry(i), &mut stored).unwrap();
            roots.push(tree.root());
        }
        Log { stored, roots }
    })
}

/// RFC 6962 §2.1 MTH as written in the RFC.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n);
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut bytes = hash.0;
    bytes[(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash(bytes)
}

#[test]
fn roots_match_the_naive_recursion_for_every_size_to_1000() {
    let log = log();
    let leaves: Vec<Hash> = (0..1000).map(|i| leaf_hash(&entry(i))).collect();
    for size in 1..=1000usize {
        let expected = naive_root(&leaves[..size]);
        assert_eq!(log.roots[size], expected, "tree root at {size}");
        assert_eq!(
            root_at(size as u64, &log.stored).unwrap(),
            expected,
            "stored root at {size}"
        );
    }
}

#[test]
fn proofs_at_a_million_entries_are_short() {
    const SIZE: u64 = 1_000_000;
    let mut tree = Tree::new();
    let mut stored = Vec::with_capacity(2 * SIZE as usize);
    for i in 0..SIZE {
        tree.append(&entry(i), &mut stored).unwrap();
    }
    let root = tree.root();
    let mut rng = SplitMix(7);
    let mut longest_inclusion = 0;
    for index in (0..200)
        .map(|_| rng.below(SIZE))
        .chain([0, SIZE - 1, SIZE / 2])
    {
        let proof = prove_inclusion(index, SIZE, &stored).unwrap();
        longest_inclusion = longest_inclusion.max(proof.path().len());
        proof.verify(&leaf_hash(&entry(index)), &root).unwrap();
    }
    assert!(
        longest_inclusion <= 20,
        "inclusion proof of {longest_inclusion}"
    );
    let mut longest_consistency = 0;
    for old in (0..200)
        .map(|_| 1 + rng.below(SIZE - 1))
        .chain([1, 3, 524_287, 524_289, SIZE - 1])
    {
        let proof = prove_consistency(old, SIZE, &stored).unwrap();
        longest_consistency = longest_consistency.max(proof.path().len());
        let old_root = root_at(old, &stored).unwrap();
        proof.verify(&old_root, &root).unwrap();
    }
    assert!(
        longest_consistency <= 40,
        "consistency proof of {longest_consistency}"
    );
}

/// A fixed-seed generator for sampling in plain tests (splitmix64).
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn inclusion_proofs_verify_and_fail_when_flipped(
        size in 1..=LOG_SIZE,
        index_seed in any::<u64>(),
        bit in 0usize..256,
        pick in any::<prop::sample::Index>(),
    ) {
        let log = log();
        let index = index_seed % size;
        let root = log.roots[size as usize];
        let leaf = leaf_hash(&entry(index));
        let proof = prove_inclusion(index, size, &log.stored).unwrap();
        prop_assert!(proof.verify(&leaf, &root).is_ok());
        prop_assert!(proof.verify(&flip(&leaf, bit), &root).is_err());
        prop_assert!(proof.verify(&leaf, &flip(&root, bit)).is_err());
        if !proof.path().is_empty() {
            let mut path = proof.path().to_vec();
            let at = pick.index(path.len());
            path[at] = flip(&path[at], bit);
            let flipped = InclusionProof::new(index, size, path).unwrap();
            prop_assert!(flipped.verify(&leaf, &root).is_err());
        }
        // The same path claimed for another index or size does not verify.
        if size > 1 {
            let other = InclusionProof::new((index + 1) % size, size, proof.path().to_vec()).unwrap();
            prop_assert!(other.verify(&leaf, &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_fail_when_flipped(
        new_size in 1..=LOG_SIZE,
        old_seed in any::<u64>(),
        bit in 0usize..256,
        pick in any::<prop::sample::Index>(),
    ) {
        let log = log();
        let old_size = old_seed % (new_size + 1);
        let (old_root, new_root) = (log.roots[old_size as usize], log.roots[new_size as usize]);
        let proof = prove_consistency(old_size, new_size, &log.stored).unwrap();
        prop_assert!(proof.verify(&old_root, &new_root).is_ok());
        prop_assert!(proof.verify(&flip(&old_root, bit), &new_root).is_err());
        if old_size > 0 && old_size < new_size {
            prop_assert!(proof.verify(&old_root, &flip(&new_root, bit)).is_err());
            let mut path = proof.path().to_vec();
            let at = pick.index(path.len());
            path[at] = flip(&path[at], bit);
            let flipped = ConsistencyProof::new(old_size, new_size, path).unwrap();
            prop_assert!(flipped.verify(&old_root, &new_root).is_err());
        }
    }

    #[test]
    fn notes_round_trip(
        lines in prop::collection::vec("[^\\x00-\\x1f]{0,40}", 1..6),
        seed in any::<[u8; 32]>(),
        name in "[a-z0-9./:-]{1,30}",
    ) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let signer = NoteSigner::new(&name, &seed).unwrap();
        let mut note = Note::new(&text).unwrap();
        signer.sign(&mut note).unwrap();
        let encoded = note.to_text().unwrap();
        let parsed = Note::parse(encoded.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &note);
        let vkey = VerifierKey::parse(&signer.verifier_key().to_vkey()).unwrap();
        prop_assert!(parsed.verify(&[vkey]).is_ok());
    }

    #[test]
    fn checkpoints_round_trip(
        origin in "[^\\x00-\\x1f]{1,40}",
        size in 0u64..=assay_log::TREE_SIZE_MAX,
        root in any::<[u8; 32]>(),
        extensions in prop::collection::vec("[^\\x00-\\x1f]{1,20}", 0..3),
    ) {
        let extensions: Vec<&str> = extensions.iter().map(String::as_str).collect();
        let checkpoint = Checkpoint::new(&origin, size, Hash(root))
            .unwrap()
            .with_extensions(&extensions)
            .unwrap();
        prop_assert_eq!(Checkpoint::parse_body(&checkpoint.body()).unwrap(), checkpoint);
    }

    #[test]
    fn tile_paths_round_trip(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256, entries: bool) {
        let tile = if entries {
            TileId::entries(index, width).unwrap()
        } else {
            TileId::hashes(level, index, width).unwrap()
        };
        prop_assert_eq!(TileId::parse_path(&tile.path()).unwrap(), tile);
        // No method panics on any valid tile id, whatever the tree size.
        let _ = tile.leaf_range();
        let _ = tile.is_served_at(index);
        let _ = tile.stored_hash_indexes().map(|i| i.len());
    }

    #[test]
    fn entry_bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..=256)) {
        let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let data = encode_entry_bundle(slices.iter().copied()).unwrap();
        prop_assert_eq!(parse_entry_bundle(&data).unwrap(), slices);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Note::parse(&bytes);
        let _ = parse_entry_bundle(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = Checkpoint::parse_body(&text);
        let _ = TileId::parse_path(&text);
        let _ = VerifierKey::parse(&text);
        let _ = Hash::from_base64(&text);
    }

    #[test]
    fn parsers_never_panic_on_near_valid_text(
        pieces in prop::collection::vec(
            prop::sample::select(vec![
                "\n", "\n\n", "\u{2014} ", " ", "+", "tile/", "entries/", "x001/", "000", ".p/",
                "255", "0", "AAAA", "=", "name", "x", "/",
            ]),
            0..40,
        ),
    ) {
        let text: String = pieces.concat();
        let _ = Note::parse(text.as_bytes());
        let _ = Checkpoint::parse_body(&text);
        let _ = TileId::parse_path(&text);
        let _ = VerifierKey::parse(&text);
    }
}
