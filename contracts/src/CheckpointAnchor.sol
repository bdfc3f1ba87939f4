// SPDX-License-Identifier: AGPL-3.0-only
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title CheckpointAnchor
/// @notice Records the exchange's signed log checkpoints (size, root) on chain (rule L5) and
/// accepts, from anyone, proof that the exchange signed two different roots for one size
/// (rule X1.4). The finding is permanent: nothing in this contract can clear it.
/// @dev The exchange signs checkpoints with a secp256k1 key as EIP-712 typed data, because the
/// EVM has no Ed25519 precompile; the log's own Ed25519 checkpoint notes stay the off-chain
/// source of truth. There is no owner, no upgrade path and no selfdestruct.
contract CheckpointAnchor is EIP712 {
    /// @dev EIP-712 type of a checkpoint the exchange signs.
    bytes32 public constant CHECKPOINT_TYPEHASH = keccak256("Checkpoint(uint64 size,bytes32 root)");

    /// @notice The only key whose checkpoints count.
    address public immutable exchange;

    /// @notice Size of the newest anchored checkpoint (0 before the first).
    uint64 public latestSize;
    /// @notice Set for ever once two exchange-signed checkpoints of one size disagree.
    bool public equivocated;
    /// @notice Root of each anchored checkpoint, by tree size.
    mapping(uint64 size => bytes32 root) public rootAt;

    event Anchored(uint64 indexed size, bytes32 root);
    event Equivocation(uint64 indexed size, bytes32 rootA, bytes32 rootB);

    error NotNewer(uint64 size, uint64 latestSize);
    error NotExchangeSignature();
    error ZeroRoot();
    error SameRoot();

    constructor(address exchange_) EIP712("Assay CheckpointAnchor", "1") {
        exchange = exchange_;
    }

    /// @notice Records a checkpoint the exchange signed. Anyone may submit it; the size must
    /// grow, so an anchored root can never be replaced.
    function anchor(uint64 size, bytes32 root, bytes calldata signature) external {
        if (size <= latestSize) revert NotNewer(size, latestSize);
        if (root == bytes32(0)) revert ZeroRoot();
        if (!_signedByExchange(size, root, signature)) revert NotExchangeSignature();
        latestSize = size;
        rootAt[size] = root;
        emit Anchored(size, root);
    }

    /// @notice Proves the exchange equivocated: two checkpoints of one size with different
    /// roots, both signed by the exchange's key. Anyone may call it (rule X1.4).
    function proveEquivocation(
        uint64 size,
        bytes32 rootA,
        bytes calldata signatureA,
        bytes32 rootB,
        bytes calldata signatureB
    ) external {
        if (rootA == rootB) revert SameRoot();
        if (!_signedByExchange(size, rootA, signatureA)) revert NotExchangeSignature();
        if (!_signedByExchange(size, rootB, signatureB)) revert NotExchangeSignature();
        equivocated = true;
        emit Equivocation(size, rootA, rootB);
    }

    /// @notice Whether (size, root) is an anchored checkpoint.
    function isAnchored(uint64 size, bytes32 root) external view returns (bool) {
        return root != bytes32(0) && rootAt[size] == root;
    }

    /// @notice The EIP-712 digest the exchange signs for a checkpoint.
    function checkpointDigest(uint64 size, bytes32 root) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CHECKPOINT_TYPEHASH, size, root)));
    }

    function _signedByExchange(uint64 size, bytes32 root, bytes calldata signature) private view returns (bool) {
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecoverCalldata(checkpointDigest(size, root), signature);
        return recoverError == ECDSA.RecoverError.NoError && signer == exchange;
    }
}
