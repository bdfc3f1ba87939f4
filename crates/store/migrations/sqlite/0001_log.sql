-- The Merkle log. `log_head` holds the size and root that `log_entries` and `log_hashes` were
-- last advanced to; all three change in one transaction per batch (see src/lib.rs).
CREATE TABLE log_head (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32)
);
-- The empty tree: size 0, root SHA-256("").
INSERT INTO log_head (id, size, root)
VALUES (0, 0, X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

-- Entry `idx` (from 0). INTEGER PRIMARY KEY is the rowid: appends go to the end of the b-tree.
CREATE TABLE log_entries (
    idx INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

-- Stored hash `idx`, numbered as assay_log::stored_hash_index numbers them.
CREATE TABLE log_hashes (
    idx INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);

-- Signed checkpoint notes (C2SP tlog-checkpoint), one per tree size.
CREATE TABLE log_checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);

-- Opaque snapshots (engine state) at a tree size.
CREATE TABLE log_snapshots (
    size INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
