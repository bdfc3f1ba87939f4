-- The Merkle log. `log_head` holds the size and root that `log_entries` and `log_hashes` were
-- last advanced to; all three change in one transaction per batch (see src/lib.rs).
CREATE TABLE log_head (
    id SMALLINT PRIMARY KEY CHECK (id = 0),
    size BIGINT NOT NULL CHECK (size >= 0),
    root BYTEA NOT NULL CHECK (octet_length(root) = 32)
);
-- The empty tree: size 0, root SHA-256("").
INSERT INTO log_head (id, size, root)
VALUES (0, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea);

-- Entry `idx` (from 0).
CREATE TABLE log_entries (
    idx BIGINT PRIMARY KEY,
    data BYTEA NOT NULL
);

-- Stored hash `idx`, numbered as assay_log::stored_hash_index numbers them.
CREATE TABLE log_hashes (
    idx BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

-- Signed checkpoint notes (C2SP tlog-checkpoint), one per tree size.
CREATE TABLE log_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL
);

-- Opaque snapshots (engine state) at a tree size.
CREATE TABLE log_snapshots (
    size BIGINT PRIMARY KEY,
    data BYTEA NOT NULL
);
