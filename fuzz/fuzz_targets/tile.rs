//! Tile path and hash tile parsers: never panic; accepted paths re-encode to the same text.
#![no_main]

use assay_log::{parse_hash_tile, TileId, TileKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (path, rest) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    if let Ok(tile) = TileId::parse_path(path) {
        assert_eq!(tile.path(), path, "tile paths have one spelling");
        let _ = tile.leaf_range();
        let _ = tile.is_served_at(u64::from_le_bytes([0xff; 8]) >> 2);
        if let TileKind::Hashes { .. } = tile.kind() {
            if let Ok(hashes) = parse_hash_tile(&tile, rest) {
                assert_eq!(hashes.len(), usize::from(tile.width()));
            }
            let _ = tile.stored_hash_indexes().map(|i| i.len());
        }
    }
});
