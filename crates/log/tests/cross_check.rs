//! Cross-checks against an independent implementation: Cloudflare azul's `tlog_tiles` 0.2.0 and
//! `signed_note` 0.2.0 (Rust ports of Go's `sumdb/tlog` and `sumdb/note`).
//!
//! `tlog_tiles` 0.2.0 predates C2SP tlog-tiles paths: it writes the Go checksum-database form
//! `tile/8/<L>/<N>` and `tile/8/data/<N>`. Where it lags the spec the spec wins, so paths are
//! compared after mapping `tile/8/<L>/` to `tile/<L>/` and `tile/8/data/` to `tile/entries/`.

use std::collections::BTreeSet;

use assay_log::{
    leaf_hash, prove_consistency, prove_inclusion, read_tile, tiles_between, Checkpoint,
    ConsistencyProof, Hash, InclusionProof, Note, NoteSigner, TileId, TileKind, Tree, VerifierKey,
};
use base64::Engine as _;
use signed_note::{Signer as _, Verifier as _};

/// Their hash store, filled only by their own `stored_hashes`.
struct TheirStore(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for TheirStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl TheirStore {
    fn append(&mut self, n: u64, data: &[u8]) {
        let hashes = tlog_tiles::stored_hashes(n, data, self).unwrap();
        self.0.extend(hashes);
    }
}

fn theirs(hash: Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(hash.0)
}

fn ours(hash: tlog_tiles::Hash) -> Hash {
    Hash(hash.0)
}

fn entry(i: u64) -> Vec<u8> {
    // Entries of varied length, so leaf hashing covers more than one SHA-256 block.
    let mut bytes = i.to_le_bytes().to_vec();
    bytes.resize(8 + (i % 97) as usize, (i % 251) as u8);
    bytes
}

/// Both implementations grown to `size` entries, appending the same entries.
struct Pair {
    tree: Tree,
    stored: Vec<Hash>,
    their: TheirStore,
}

impl Pair {
    fn grow(size: u64) -> Pair {
        let mut pair = Pair {
            tree: Tree::new(),
            stored: Vec::new(),
            their: TheirStore(Vec::new()),
        };
        for i in 0..size {
            pair.append(i);
        }
        pair
    }

    fn append(&mut self, i: u64) {
        let data = entry(i);
        self.tree.append(&data, &mut self.stored).unwrap();
        self.their.append(i, &data);
    }
}

#[test]
fn same_roots_and_stored_hashes_for_every_size_to_1000() {
    let mut pair = Pair::grow(0);
    for i in 0..1000 {
        pair.append(i);
        let size = i + 1;
        let their_root = tlog_tiles::tree_hash(size, &pair.their).unwrap();
        assert_eq!(pair.tree.root(), ours(their_root), "root at size {size}");
    }
    let their_stored: Vec<Hash> = pair.their.0.iter().copied().map(ours).collect();
    assert_eq!(pair.stored, their_stored);
}

#[test]
fn same_roots_at_random_sizes_to_a_million() {
    // Both sides grow incrementally once; roots are compared at sampled sizes on the way.
    const SIZE_MAX: u64 = 1_000_000;
    let mut samples: BTreeSet<u64> = [1, 255, 256, 257, 65_536, 524_288, 999_999, SIZE_MAX].into();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    while samples.len() < 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        samples.insert(1 + state % SIZE_MAX);
    }
    let mut pair = Pair::grow(0);
    for i in 0..SIZE_MAX {
        pair.append(i);
        if samples.contains(&(i + 1)) {
            let their_root = tlog_tiles::tree_hash(i + 1, &pair.their).unwrap();
            assert_eq!(pair.tree.root(), ours(their_root), "root at size {}", i + 1);
            // And ours from stored hashes agrees with both.
            assert_eq!(
                assay_log::root_at(i + 1, &pair.stored).unwrap(),
                pair.tree.root()
            );
        }
    }
}

#[test]
fn proofs_are_accepted_both_ways() {
    let pair = Pair::grow(300);
    let roots: Vec<Hash> = (0..=300)
        .map(|n| assay_log::root_at(n, &pair.stored).unwrap())
        .collect();
    let sizes = (1..=70u64).chain([127, 128, 129, 255, 256, 257, 299, 300]);
    for size in sizes {
        let root = roots[size as usize];
        for index in 0..size {
            let leaf = leaf_hash(&entry(index));
            let mine = prove_inclusion(index, size, &pair.stored).unwrap();
            let their_path: Vec<tlog_tiles::Hash> =
                mine.path().iter().copied().map(theirs).collect();
            tlog_tiles::check_record(&their_path, size, theirs(root), index, theirs(leaf))
                .unwrap_or_else(|e| panic!("they refuse our inclusion {index}@{size}: {e}"));
            let their = tlog_tiles::prove_record(size, index, &pair.their).unwrap();
            let converted =
                InclusionProof::new(index, size, their.into_iter().map(ours).collect()).unwrap();
            assert_eq!(converted, mine);
            converted.verify(&leaf, &root).unwrap();
        }
        for old in 1..=size {
            let mine = prove_consistency(old, size, &pair.stored).unwrap();
            let their_path: Vec<tlog_tiles::Hash> =
                mine.path().iter().copied().map(theirs).collect();
            tlog_tiles::check_tree(
                &their_path,
                size,
                theirs(root),
                old,
                theirs(roots[old as usize]),
            )
            .unwrap_or_else(|e| panic!("they refuse our consistency {old}->{size}: {e}"));
            let their = tlog_tiles::prove_tree(size, old, &pair.their).unwrap();
            let converted =
                ConsistencyProof::new(old, size, their.into_iter().map(ours).collect()).unwrap();
            assert_eq!(converted, mine);
            converted.verify(&roots[old as usize], &root).unwrap();
        }
    }
}

/// Their Go-style path in C2SP form.
fn c2sp_path(tile: &tlog_tiles::Tile) -> String {
    let path = tile.path();
    let rest = path.strip_prefix("tile/8/").expect("height-8 tile path");
    match rest.strip_prefix("data/") {
        Some(index) => format!("tile/entries/{index}"),
        None => format!("tile/{rest}"),
    }
}

#[test]
fn same_tiles_and_tile_contents() {
    let pair = Pair::grow(70_000);
    for (old, new) in [
        (0, 1),
        (0, 256),
        (0, 70_000),
        (255, 257),
        (1000, 66_000),
        (65_535, 65_536),
    ] {
        let mine: Vec<String> = tiles_between(old, new)
            .unwrap()
            .iter()
            .filter(|t| t.kind() != TileKind::Entries)
            .map(TileId::path)
            .collect();
        let their: Vec<String> = tlog_tiles::Tile::new_tiles(8, old, new)
            .iter()
            .map(c2sp_path)
            .collect();
        assert_eq!(mine, their, "tiles from {old} to {new}");
    }
    for tile in tiles_between(0, 70_000).unwrap() {
        let TileKind::Hashes { level } = tile.kind() else {
            continue;
        };
        let their_tile =
            tlog_tiles::Tile::new(8, level, tile.index(), u32::from(tile.width()), false);
        assert_eq!(c2sp_path(&their_tile), tile.path());
        assert_eq!(
            read_tile(&tile, &pair.stored).unwrap(),
            their_tile.read_data(&pair.their).unwrap()
        );
        let mut data_tile = their_tile;
        data_tile.set_is_data();
        if level == 0 {
            let bundle = TileId::entries(tile.index(), tile.width()).unwrap();
            assert_eq!(c2sp_path(&data_tile), bundle.path());
        }
    }
}

#[test]
fn same_checkpoint_bodies() {
    let root = leaf_hash(b"some root");
    for extensions in [vec![], vec!["one"], vec!["one", "two"]] {
        let mine = Checkpoint::new("example.com/origin", 923_748, root)
            .unwrap()
            .with_extensions(&extensions)
            .unwrap();
        let extension: String = extensions.iter().map(|l| format!("{l}\n")).collect();
        let their =
            tlog_tiles::Checkpoint::new("example.com/origin", 923_748, theirs(root), &extension)
                .unwrap();
        assert_eq!(their.to_bytes(), mine.body().into_bytes());
        let parsed = tlog_tiles::Checkpoint::from_bytes(mine.body().as_bytes()).unwrap();
        assert_eq!(parsed, their);
        assert_eq!(
            Checkpoint::parse_body(std::str::from_utf8(&their.to_bytes()).unwrap()).unwrap(),
            mine
        );
    }
}

fn their_signer(name: &str, seed: &[u8; 32]) -> signed_note::StandardSigner {
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    let mut public = vec![0x01];
    public.extend_from_slice(key.verifying_key().as_bytes());
    let mut private = vec![0x01];
    private.extend_from_slice(seed);
    let skey = format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        signed_note::key_id(name, &public),
        base64::engine::general_purpose::STANDARD.encode(private)
    );
    signed_note::StandardSigner::new(&skey).unwrap()
}

#[test]
fn notes_are_accepted_both_ways() {
    let name = "assay.example/log";
    for seed in 0..8u8 {
        let seed = [seed; 32];
        let ours_signer = NoteSigner::new(name, &seed).unwrap();
        let vkey = ours_signer.verifier_key().to_vkey();
        let their_verifier = signed_note::StandardVerifier::new(&vkey).unwrap();
        assert_eq!(their_verifier.key_id(), ours_signer.verifier_key().key_id());
        let their_signer = their_signer(name, &seed);
        assert_eq!(their_signer.key_id(), ours_signer.verifier_key().key_id());
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        assert_eq!(signed_note::new_ed25519_verifier_key(name, &public), vkey);

        let text = format!(
            "example.com/origin\n{}\n{}\n",
            seed[0],
            leaf_hash(&seed).to_base64()
        );
        // Ours signs, theirs verifies.
        let mut note = Note::new(&text).unwrap();
        ours_signer.sign(&mut note).unwrap();
        let encoded = note.to_text().unwrap();
        let their_note = signed_note::Note::from_bytes(encoded.as_bytes()).unwrap();
        let list = signed_note::VerifierList::new(vec![Box::new(their_verifier.clone())]);
        let (verified, _) = their_note.verify(&list).unwrap();
        assert_eq!(verified.len(), 1);
        // Theirs signs, ours verifies, and both encode the same bytes (Ed25519 is deterministic).
        let mut their_note = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
        their_note.add_sigs(&[&their_signer]).unwrap();
        assert_eq!(their_note.to_bytes(), encoded.as_bytes());
        let parsed = Note::parse(&their_note.to_bytes()).unwrap();
        parsed
            .verify(&[VerifierKey::parse(&vkey).unwrap()])
            .unwrap();
    }
}

#[test]
fn note_parsers_agree_on_a_corpus_of_damaged_notes() {
    let signer = NoteSigner::new("a.example", &[9; 32]).unwrap();
    let mut note = Note::new("origin\n1\nAAAA\n").unwrap();
    signer.sign(&mut note).unwrap();
    let good = note.to_text().unwrap();
    let mut inputs = vec![good.clone()];
    // Every truncation and every single-character deletion of a valid note.
    let chars: Vec<(usize, char)> = good.char_indices().collect();
    for &(at, c) in &chars {
        inputs.push(good[..at].to_owned());
        inputs.push(format!("{}{}", &good[..at], &good[at + c.len_utf8()..]));
        for insert in ["\n", " ", "+", "\u{2014} ", "\t"] {
            inputs.push(format!("{}{insert}{}", &good[..at], &good[at..]));
        }
    }
    for input in inputs {
        let mine = Note::parse(input.as_bytes()).is_ok();
        let their = signed_note::Note::from_bytes(input.as_bytes()).is_ok();
        assert_eq!(mine, their, "parsers disagree on {input:?}");
    }
}
