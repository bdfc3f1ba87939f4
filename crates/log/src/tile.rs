//! C2SP tlog-tiles: tile coordinates and paths, tile contents from stored hashes, and entry
//! bundles. Tile height is fixed at 8 (256 hashes per full tile), as the spec demands.

use std::fmt::Write as _;

use crate::stored::{check_size, read_checked, stored_index_unchecked};
use crate::{Error, Hash, HashReader, ENTRY_BYTES_MAX, HASH_BYTES, TREE_SIZE_MAX};

/// Tree levels one tile spans.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile, entries in a full bundle.
pub const TILE_WIDTH: u16 = 1 << TILE_HEIGHT;
/// Highest `<L>` a tile path may carry.
pub const TILE_LEVEL_MAX: u8 = 63;
/// Longest tile path this crate parses; the longest valid one is 44 bytes.
pub const TILE_PATH_BYTES_MAX: usize = 64;

/// Whether a tile holds Merkle tree hashes of one tile level, or the entries themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// `tile/<L>/...`: hashes at tree level `8 * level`.
    Hashes { level: u8 },
    /// `tile/entries/...`: an entry bundle, the entries of the level-0 tile of the same index.
    Entries,
}

/// A tile (or entry bundle) coordinate: kind, index within its level, width 1..=256.
///
/// Invariant: `1 <= width <= TILE_WIDTH` and a hash level is at most `TILE_LEVEL_MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    kind: TileKind,
    index: u64,
    width: u16,
}

impl TileId {
    pub fn hashes(level: u8, index: u64, width: u16) -> Result<TileId, Error> {
        if level > TILE_LEVEL_MAX {
            return Err(Error::TileLevel { level });
        }
        TileId::new(TileKind::Hashes { level }, index, width)
    }

    pub fn entries(index: u64, width: u16) -> Result<TileId, Error> {
        TileId::new(TileKind::Entries, index, width)
    }

    fn new(kind: TileKind, index: u64, width: u16) -> Result<TileId, Error> {
        if width == 0 || width > TILE_WIDTH {
            return Err(Error::TileWidth { width });
        }
        Ok(TileId { kind, index, width })
    }

    /// The entry bundle holding leaf `leaf_index` of the tree of `tree_size` leaves.
    pub fn entries_containing(leaf_index: u64, tree_size: u64) -> Result<TileId, Error> {
        check_size(tree_size)?;
        if leaf_index >= tree_size {
            return Err(Error::LeafIndexRange {
                leaf_index,
                tree_size,
            });
        }
        let index = leaf_index >> TILE_HEIGHT;
        let width = (tree_size - (index << TILE_HEIGHT)).min(u64::from(TILE_WIDTH));
        // Cannot truncate: width <= 256.
        TileId::entries(index, width as u16)
    }

    pub fn kind(&self) -> TileKind {
        self.kind
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn width(&self) -> u16 {
        self.width
    }

    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// Tree level of the hashes in a hash tile; 0 for entry bundles (their leaves).
    fn tree_level(&self) -> u32 {
        match self.kind {
            TileKind::Hashes { level } => u32::from(level) * u32::from(TILE_HEIGHT),
            TileKind::Entries => 0,
        }
    }

    /// Leaves `start..end` this tile's hashes (or entries) span, if they fit in a tree of
    /// `TREE_SIZE_MAX` leaves.
    pub fn leaf_range(&self) -> Result<(u64, u64), Error> {
        let per_hash = 1u64
            .checked_shl(self.tree_level())
            .ok_or(Error::StoredIndexRange)?;
        let first = self
            .index
            .checked_mul(u64::from(TILE_WIDTH))
            .ok_or(Error::StoredIndexRange)?;
        let start = first.checked_mul(per_hash).ok_or(Error::StoredIndexRange)?;
        let end = (first + u64::from(self.width))
            .checked_mul(per_hash)
            .ok_or(Error::StoredIndexRange)?;
        if end > TREE_SIZE_MAX {
            return Err(Error::StoredIndexRange);
        }
        Ok((start, end))
    }

    /// Whether a log must serve this tile at `tree_size`: a full tile once complete, a
    /// partial tile exactly when it is the right edge of its level at that size.
    pub fn is_served_at(&self, tree_size: u64) -> bool {
        // Levels above 7 hold no hash in any tree this crate handles (shift past 63 bits).
        let hashes_at_level = tree_size.checked_shr(self.tree_level()).unwrap_or(0);
        let full_tiles = hashes_at_level >> TILE_HEIGHT;
        if self.is_partial() {
            self.index == full_tiles
                && u64::from(self.width) == hashes_at_level % u64::from(TILE_WIDTH)
        } else {
            self.index < full_tiles
        }
    }

    /// Path relative to the log prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`,
    /// with `<N>` in 3-digit groups (`x001/x234/067`).
    pub fn path(&self) -> String {
        // The `expect`s below cannot fire: `fmt::Write` for `String` never returns an error.
        let mut path = String::with_capacity(TILE_PATH_BYTES_MAX);
        path.push_str("tile/");
        match self.kind {
            TileKind::Hashes { level } => write!(path, "{level}"),
            TileKind::Entries => write!(path, "entries"),
        }
        .expect("writing to a String cannot fail");
        let mut groups = [0u16; 7];
        let mut count = 0;
        let mut n = self.index;
        loop {
            // Cannot truncate: n % 1000 < 1000.
            groups[count] = (n % 1000) as u16;
            count += 1;
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        for (position, group) in groups[..count].iter().rev().enumerate() {
            let marker = if position + 1 < count { "x" } else { "" };
            write!(path, "/{marker}{group:03}").expect("writing to a String cannot fail");
        }
        if self.is_partial() {
            write!(path, ".p/{}", self.width).expect("writing to a String cannot fail");
        }
        path
    }

    /// Parses a path as [`TileId::path`] writes it, refusing every other spelling.
    pub fn parse_path(path: &str) -> Result<TileId, Error> {
        let bad = || Error::TilePath;
        if path.len() > TILE_PATH_BYTES_MAX {
            return Err(bad());
        }
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level_text, rest) = rest.split_once('/').ok_or_else(bad)?;
        let kind = if level_text == "entries" {
            TileKind::Entries
        } else {
            TileKind::Hashes {
                level: parse_decimal(level_text)
                    .and_then(|level| u8::try_from(level).ok())
                    .ok_or_else(bad)?,
            }
        };
        let (index_text, width) = match rest.split_once(".p/") {
            Some((index_text, width_text)) => {
                let width = parse_decimal(width_text)
                    .and_then(|w| u16::try_from(w).ok())
                    .filter(|&w| (1..TILE_WIDTH).contains(&w))
                    .ok_or_else(bad)?;
                (index_text, width)
            }
            None => (rest, TILE_WIDTH),
        };
        let mut index: u64 = 0;
        let mut groups = index_text.split('/').peekable();
        while let Some(group) = groups.next() {
            let digits = if groups.peek().is_some() {
                group.strip_prefix('x').ok_or_else(bad)?
            } else {
                group
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let value = parse_decimal_digits(digits);
            index = index
                .checked_mul(1000)
                .and_then(|i| i.checked_add(value))
                .ok_or_else(bad)?;
        }
        let tile = match kind {
            TileKind::Hashes { level } => TileId::hashes(level, index, width),
            TileKind::Entries => TileId::entries(index, width),
        }
        .map_err(|_| bad())?;
        // Only the canonical spelling is accepted (no "x000/" groups, no "00" levels).
        if tile.path() != path {
            return Err(bad());
        }
        Ok(tile)
    }

    /// Stored-hash indexes of a hash tile's hashes, in tile order.
    pub fn stored_hash_indexes(&self) -> Result<Vec<u64>, Error> {
        let TileKind::Hashes { .. } = self.kind else {
            return Err(Error::TileKindMismatch);
        };
        self.leaf_range()?;
        let first = self.index << TILE_HEIGHT;
        // Cannot truncate: tree_level <= 62 once leaf_range fits TREE_SIZE_MAX.
        let level = self.tree_level() as u8;
        Ok((0..u64::from(self.width))
            .map(|i| stored_index_unchecked(level, first + i))
            .collect())
    }
}

/// Parses ASCII decimal with no sign and no leading zeros ("0" itself is allowed).
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return None;
    }
    text.parse().ok()
}

fn parse_decimal_digits(digits: &str) -> u64 {
    digits
        .bytes()
        .fold(0, |value, b| value * 10 + u64::from(b - b'0'))
}

/// Tiles and entry bundles that exist at `new_size` but not at `old_size`: the tiles completed
/// by the growth, and the new partial tiles at the right edge. `tiles_between(0, n)` lists every
/// tile of the tree of `n` leaves. Entry bundles come first, then hash tiles level by level.
pub fn tiles_between(old_size: u64, new_size: u64) -> Result<Vec<TileId>, Error> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(Error::ConsistencySizes { old_size, new_size });
    }
    let mut tiles = Vec::new();
    push_level_tiles(TileKind::Entries, old_size, new_size, &mut tiles)?;
    let mut level = 0u8;
    while level <= TILE_LEVEL_MAX {
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let Some(hashes) = new_size.checked_shr(shift).filter(|&h| h > 0) else {
            break;
        };
        push_level_tiles(
            TileKind::Hashes { level },
            old_size >> shift,
            hashes,
            &mut tiles,
        )?;
        level += 1;
    }
    Ok(tiles)
}

/// Pushes the tiles of one level growing from `old` to `new` hashes (entries).
fn push_level_tiles(
    kind: TileKind,
    old: u64,
    new: u64,
    tiles: &mut Vec<TileId>,
) -> Result<(), Error> {
    if new == old {
        return Ok(());
    }
    let width = u64::from(TILE_WIDTH);
    for index in (old / width)..(new / width) {
        tiles.push(TileId::new(kind, index, TILE_WIDTH)?);
    }
    let partial = new % width;
    if partial > 0 {
        // Cannot truncate: partial < 256.
        tiles.push(TileId::new(kind, new / width, partial as u16)?);
    }
    Ok(())
}

/// A hash tile's contents: its hashes concatenated, read from stored hashes in one call.
pub fn read_tile<R: HashReader + ?Sized>(tile: &TileId, reader: &R) -> Result<Vec<u8>, Error> {
    let indexes = tile.stored_hash_indexes()?;
    let hashes = read_checked(reader, &indexes)?;
    let mut data = Vec::with_capacity(hashes.len() * HASH_BYTES);
    for hash in &hashes {
        data.extend_from_slice(&hash.0);
    }
    Ok(data)
}

/// Splits a hash tile's contents into hashes, checking the length its width demands.
pub fn parse_hash_tile(tile: &TileId, data: &[u8]) -> Result<Vec<Hash>, Error> {
    let TileKind::Hashes { .. } = tile.kind else {
        return Err(Error::TileKindMismatch);
    };
    let expected = usize::from(tile.width) * HASH_BYTES;
    if data.len() != expected {
        return Err(Error::TileDataLength {
            expected,
            got: data.len(),
        });
    }
    data.chunks_exact(HASH_BYTES)
        .map(Hash::from_slice)
        .collect()
}

/// Encodes an entry bundle: each entry as a big-endian u16 length and its bytes.
pub fn encode_entry_bundle<'a, I>(entries: I) -> Result<Vec<u8>, Error>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut data = Vec::new();
    let mut count = 0usize;
    for entry in entries {
        count += 1;
        if count > usize::from(TILE_WIDTH) {
            return Err(Error::BundleEntryCount { count });
        }
        let length = u16::try_from(entry.len()).map_err(|_| Error::EntryTooLarge {
            length: entry.len(),
        })?;
        data.extend_from_slice(&length.to_be_bytes());
        data.extend_from_slice(entry);
    }
    if count == 0 {
        return Err(Error::BundleEntryCount { count });
    }
    Ok(data)
}

/// Parses an entry bundle into its 1..=256 entries, borrowing from `data`.
pub fn parse_entry_bundle(data: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let mut entries = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if entries.len() == usize::from(TILE_WIDTH) {
            return Err(Error::BundleEntryCount {
                count: entries.len() + 1,
            });
        }
        let (length, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(Error::BundleTruncated)?;
        let length = usize::from(u16::from_be_bytes(*length));
        debug_assert!(length <= ENTRY_BYTES_MAX);
        if tail.len() < length {
            return Err(Error::BundleTruncated);
        }
        let (entry, tail) = tail.split_at(length);
        entries.push(entry);
        rest = tail;
    }
    if entries.is_empty() {
        return Err(Error::BundleEntryCount { count: 0 });
    }
    Ok(entries)
}

/// [`parse_entry_bundle`], also checking the bundle has the entries its tile id promises.
pub fn parse_entry_bundle_for<'a>(tile: &TileId, data: &'a [u8]) -> Result<Vec<&'a [u8]>, Error> {
    if tile.kind != TileKind::Entries {
        return Err(Error::TileKindMismatch);
    }
    let entries = parse_entry_bundle(data)?;
    if entries.len() != usize::from(tile.width) {
        return Err(Error::BundleEntryCount {
            count: entries.len(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{leaf_hash, node_hash, Tree};

    fn check_path(tile: TileId, expect: &str) {
        assert_eq!(tile.path(), expect);
        assert_eq!(TileId::parse_path(expect).unwrap(), tile);
    }

    #[test]
    fn paths_follow_the_spec_examples() {
        check_path(
            TileId::hashes(0, 1_234_067, 256).unwrap(),
            "tile/0/x001/x234/067",
        );
        check_path(
            TileId::hashes(4, 1_234_067, 1).unwrap(),
            "tile/4/x001/x234/067.p/1",
        );
        check_path(TileId::hashes(63, 0, 255).unwrap(), "tile/63/000.p/255");
        check_path(TileId::entries(5, 256).unwrap(), "tile/entries/005");
        check_path(
            TileId::entries(1000, 7).unwrap(),
            "tile/entries/x001/000.p/7",
        );
        check_path(
            TileId::entries(u64::MAX, 256).unwrap(),
            "tile/entries/x018/x446/x744/x073/x709/x551/615",
        );
    }

    #[test]
    fn non_canonical_paths_are_refused() {
        for path in [
            "",
            "tile/0/1",
            "tile/0/01",
            "tile/00/001",
            "tile/64/001",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x1/002",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/0/001.p/01",
            "tile/0/001.p/",
            "tile/data/001",
            "tile/entries/001.p/1/",
            "tile/entries/x018/x446/x744/x073/x709/x551/616",
            "/tile/0/001",
            "tile/0/+01",
        ] {
            assert_eq!(
                TileId::parse_path(path).unwrap_err(),
                Error::TilePath,
                "{path}"
            );
        }
    }

    #[test]
    fn tiles_of_a_tree_of_70000_match_the_spec() {
        let tiles = tiles_between(0, 70_000).unwrap();
        let of = |kind: TileKind| -> Vec<TileId> {
            tiles.iter().copied().filter(|t| t.kind() == kind).collect()
        };
        let level0 = of(TileKind::Hashes { level: 0 });
        assert_eq!(level0.len(), 274);
        assert_eq!(level0.iter().filter(|t| !t.is_partial()).count(), 273);
        assert_eq!(level0.last().unwrap().width(), 112);
        let level1 = of(TileKind::Hashes { level: 1 });
        assert_eq!(
            level1.iter().map(TileId::width).collect::<Vec<_>>(),
            [256, 17]
        );
        let level2 = of(TileKind::Hashes { level: 2 });
        assert_eq!(level2.iter().map(TileId::width).collect::<Vec<_>>(), [1]);
        assert_eq!(of(TileKind::Entries).len(), 274);
        assert_eq!(tiles.len(), 274 * 2 + 3);
        assert!(tiles.iter().all(|t| t.is_served_at(70_000)));
        assert!(!TileId::hashes(1, 1, 256).unwrap().is_served_at(70_000));
        assert!(!TileId::hashes(0, 273, 111).unwrap().is_served_at(70_000));
        // Found by the `tile` fuzz target: level 63 once overflowed the shift.
        assert!(!TileId::hashes(63, 0, 255).unwrap().is_served_at(u64::MAX));

        let size_256 = tiles_between(0, 256).unwrap();
        assert_eq!(
            size_256.iter().map(TileId::path).collect::<Vec<_>>(),
            ["tile/entries/000", "tile/0/000", "tile/1/000.p/1"]
        );
    }

    #[test]
    fn growth_lists_only_new_tiles() {
        assert!(tiles_between(10, 10).unwrap().is_empty());
        let grown = tiles_between(255, 257).unwrap();
        assert_eq!(
            grown.iter().map(TileId::path).collect::<Vec<_>>(),
            [
                "tile/entries/000",
                "tile/entries/001.p/1",
                "tile/0/000",
                "tile/0/001.p/1",
                "tile/1/000.p/1"
            ]
        );
        assert!(tiles_between(3, 2).is_err());
    }

    #[test]
    fn tile_contents_come_from_stored_hashes() {
        let mut tree = Tree::new();
        let mut stored = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..(256u32 * 3 + 5) {
            leaves.push(leaf_hash(&i.to_be_bytes()));
            tree.append(&i.to_be_bytes(), &mut stored).unwrap();
        }
        let tile = TileId::hashes(0, 2, 256).unwrap();
        let hashes = parse_hash_tile(&tile, &read_tile(&tile, &stored).unwrap()).unwrap();
        assert_eq!(hashes, leaves[512..768]);
        // A level-1 hash is the root of a full level-0 tile.
        let level1 = TileId::hashes(1, 0, 3).unwrap();
        let roots = parse_hash_tile(&level1, &read_tile(&level1, &stored).unwrap()).unwrap();
        let mut layer = leaves[256..512].to_vec();
        while layer.len() > 1 {
            layer = layer.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        assert_eq!(roots[1], layer[0]);
        let missing = TileId::hashes(0, 3, 6).unwrap();
        assert_eq!(
            read_tile(&missing, &stored).unwrap_err().code(),
            "hash_missing"
        );
        assert_eq!(
            parse_hash_tile(&tile, &[0; 31]).unwrap_err().code(),
            "tile_data_length"
        );
        let entries = TileId::entries(0, 1).unwrap();
        assert_eq!(
            read_tile(&entries, &stored).unwrap_err().code(),
            "tile_kind_mismatch"
        );
    }

    #[test]
    fn entry_bundles_round_trip_and_refuse_damage() {
        let entries: Vec<&[u8]> = vec![b"", b"a", &[7u8; 300]];
        let data = encode_entry_bundle(entries.iter().copied()).unwrap();
        assert_eq!(&data[..5], &[0, 0, 0, 1, b'a']);
        assert_eq!(parse_entry_bundle(&data).unwrap(), entries);
        let tile = TileId::entries(0, 3).unwrap();
        assert_eq!(parse_entry_bundle_for(&tile, &data).unwrap(), entries);
        let wrong = TileId::entries(0, 4).unwrap();
        assert!(parse_entry_bundle_for(&wrong, &data).is_err());
        assert_eq!(
            parse_entry_bundle(&data[..data.len() - 1]).unwrap_err(),
            Error::BundleTruncated
        );
        assert_eq!(
            parse_entry_bundle(&[0]).unwrap_err(),
            Error::BundleTruncated
        );
        assert!(parse_entry_bundle(&[]).is_err());
        assert!(encode_entry_bundle(std::iter::empty()).is_err());
        let too_many = vec![0u8; 2 * 257];
        assert!(parse_entry_bundle(&too_many).is_err());
        assert!(parse_entry_bundle(&too_many[..512]).is_ok());
        let big = vec![0u8; ENTRY_BYTES_MAX + 1];
        assert!(encode_entry_bundle([big.as_slice()]).is_err());
    }

    #[test]
    fn entry_bundle_for_a_leaf() {
        assert_eq!(
            TileId::entries_containing(0, 1).unwrap().path(),
            "tile/entries/000.p/1"
        );
        assert_eq!(
            TileId::entries_containing(300, 1000).unwrap().path(),
            "tile/entries/001"
        );
        assert_eq!(
            TileId::entries_containing(999, 1000).unwrap().path(),
            "tile/entries/003.p/232"
        );
        assert!(TileId::entries_containing(5, 5).is_err());
    }
}
