-- Members' payout destinations (issue 9), sealed by the server (XChaCha20-Poly1305 under a key
-- in its data directory). Never part of the log; one row per member, replaced when the member
-- sends it again.
CREATE TABLE payout_destinations (
    member INTEGER PRIMARY KEY,
    sealed BLOB NOT NULL
);
