// SPDX-License-Identifier: AGPL-3.0-only
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {CheckpointAnchor} from "./CheckpointAnchor.sol";

/// @title Treasury
/// @notice Holds the cooperative's USDC, pays each month's USDC payout lines against the
/// exchange-signed Merkle root of that month (rule D4), and carries the poison pill (rules
/// X1-X3): an equivocation proven on the anchor (X1.4), a month whose root is not in by 00:00 UTC
/// on the 4th of the next month (X1.2), or a root giving members under 90% of the month's
/// income (X1.1) terminates it, after which every active member withdraws a pro-rata share.
/// @dev No owner, board or operator role exists; no function pauses, upgrades, sweeps or
/// self-destructs; the token, anchor and exchange key are immutable. Once terminated, nothing
/// can un-terminate it. Leaves use OpenZeppelin's StandardMerkleTree encoding
/// `keccak256(bytes.concat(keccak256(abi.encode(uint256 index, address account, uint256 value))))`,
/// the format of the rails crate (`assay_rails::usdc`).
contract Treasury is EIP712 {
    /// @notice What the exchange signs to publish a month's run.
    struct RootSubmission {
        /// Month number: year * 12 + (month - 1).
        uint32 month;
        /// StandardMerkleTree root over (index, account, amount) payout lines, USDC base units.
        bytes32 payoutRoot;
        /// Sum of the payout lines' amounts; `fund`ed money not yet reserved must cover it.
        uint256 payoutTotal;
        /// The month's buyer-side income (all rails), micro-USD.
        uint256 income;
        /// The members' share of that income (all rails), micro-USD; under 90% is trigger X1.1.
        uint256 memberShare;
        /// StandardMerkleTree root over (index, account, weight) of the active members, for X2.
        bytes32 weightsRoot;
        /// Sum of the weights in weightsRoot.
        uint256 totalWeight;
        /// The log checkpoint that holds this run; must be anchored.
        uint64 checkpointSize;
        bytes32 checkpointRoot;
    }

    /// @notice Why the treasury terminated.
    enum Trigger {
        None,
        MemberShare, // X1.1
        MissedRoot, // X1.2
        Equivocation // X1.4
    }

    bytes32 public constant ROOT_SUBMISSION_TYPEHASH = keccak256(
        "RootSubmission(uint32 month,bytes32 payoutRoot,uint256 payoutTotal,uint256 income,uint256 memberShare,bytes32 weightsRoot,uint256 totalWeight,uint64 checkpointSize,bytes32 checkpointRoot)"
    );
    /// @notice Members' minimum share of income, in basis points (X1.1). Not a parameter.
    uint256 public constant MEMBER_SHARE_MIN_BPS = 9_000;
    /// @notice Days after the 1st within which a month's root must arrive (X1.2). Not a parameter.
    uint256 public constant RUN_DEADLINE_DAYS = 3;

    IERC20 public immutable usdc;
    CheckpointAnchor public immutable checkpointAnchor;
    /// @notice The only key whose run roots count.
    address public immutable exchange;

    /// @notice The month whose root is due next; roots arrive in order, one per month.
    uint32 public nextMonth;
    Trigger public trigger;
    uint64 public terminatedAt;

    /// @notice USDC that came in through `fund` and no recorded root has reserved yet. Claims do
    /// not touch it: a root reserves its whole total when it is recorded, so a claim only spends
    /// what was reserved for it, and keeping a running total of unclaimed lines would cost every
    /// claim another storage write (5,000 gas, the difference between meeting the 100,000-gas
    /// claim budget at 24 proof levels and missing it).
    uint256 public unreserved;
    /// @notice What terminated members share, fixed when the pill fires: `unreserved` then.
    uint256 public pool;
    uint256 public withdrawnTotal;
    /// @notice The weights of the latest recorded run, used only after termination.
    bytes32 public weightsRoot;
    uint256 public totalWeight;

    mapping(uint32 month => bytes32 root) public payoutRoot;
    mapping(uint32 month => mapping(uint256 word => uint256 bits)) private claimedBits;
    mapping(uint256 word => uint256 bits) private withdrawnBits;

    event Funded(address indexed from, uint256 amount);
    event RootSubmitted(uint32 indexed month, bytes32 payoutRoot, uint256 payoutTotal, bytes32 weightsRoot);
    /// @dev The line's account and amount are in the same transaction's USDC `Transfer` event;
    /// repeating them here would cost every claim another 512 gas.
    event Claimed(uint32 indexed month, uint256 index);
    event Terminated(Trigger trigger, uint256 pool);
    event Withdrawn(uint256 index, address account, uint256 amount);

    error AlreadyClaimed(uint32 month, uint256 index);
    error AlreadyWithdrawn(uint256 index);
    error InvalidProof();
    error UnknownMonth(uint32 month);
    error WrongMonth(uint32 month, uint32 expected);
    error NotExchangeSignature();
    error CheckpointNotAnchored(uint64 size, bytes32 root);
    error Unfunded(uint256 unreserved, uint256 required);
    error ZeroWeight();
    error AlreadyTerminated();
    error NotTerminated();
    error NoTrigger();
    error PoolExhausted();
    error TransferFailed();

    constructor(IERC20 usdc_, CheckpointAnchor checkpointAnchor_, uint32 firstMonth)
        EIP712("Assay Treasury", "1")
    {
        usdc = usdc_;
        checkpointAnchor = checkpointAnchor_;
        exchange = checkpointAnchor_.exchange();
        nextMonth = firstMonth;
    }

    // ---- money in ----------------------------------------------------------------------

    /// @notice Moves `amount` USDC from the sender (who approved it) into the treasury. Only
    /// money that came in this way counts towards roots and the pool: the contract does not keep
    /// a total of unclaimed lines (see `unreserved`), so it cannot tell USDC sent by a plain
    /// transfer from money reserved for lines, and leaves such a transfer where it is. Refused
    /// after termination, when the pool is already fixed.
    function fund(uint256 amount) external {
        if (trigger != Trigger.None) revert AlreadyTerminated();
        if (!usdc.transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
        unreserved += amount;
        emit Funded(msg.sender, amount);
    }

    // ---- monthly run -------------------------------------------------------------------

    /// @notice Records a month's payout root. Anyone may send it; only the exchange's signature
    /// makes it count. A late root, or one sent after an equivocation, fires the pill instead;
    /// a root under 90% is recorded and fires the pill (its lines stay claimable).
    function submitRoot(RootSubmission calldata s, bytes calldata signature) external {
        if (trigger != Trigger.None) revert AlreadyTerminated();
        if (checkpointAnchor.equivocated()) return _terminate(Trigger.Equivocation);
        if (block.timestamp >= deadline(nextMonth)) return _terminate(Trigger.MissedRoot);
        if (s.month != nextMonth) revert WrongMonth(s.month, nextMonth);
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecoverCalldata(submissionDigest(s), signature);
        if (recoverError != ECDSA.RecoverError.NoError || signer != exchange) revert NotExchangeSignature();
        if (!checkpointAnchor.isAnchored(s.checkpointSize, s.checkpointRoot)) {
            revert CheckpointNotAnchored(s.checkpointSize, s.checkpointRoot);
        }
        if (s.totalWeight == 0) revert ZeroWeight();
        uint256 free = unreserved;
        if (free < s.payoutTotal) revert Unfunded(free, s.payoutTotal);

        unreserved = free - s.payoutTotal;
        payoutRoot[s.month] = s.payoutRoot;
        weightsRoot = s.weightsRoot;
        totalWeight = s.totalWeight;
        nextMonth = s.month + 1;
        emit RootSubmitted(s.month, s.payoutRoot, s.payoutTotal, s.weightsRoot);
        if (s.memberShare * 10_000 < s.income * MEMBER_SHARE_MIN_BPS) _terminate(Trigger.MemberShare);
    }

    /// @notice Pays one payout line to its account. Anyone may send it. Lines never expire,
    /// not even after termination: they are members' own money (rule X2).
    function claim(uint32 month, uint256 index, address account, uint256 amount, bytes32[] calldata proof) external {
        bytes32 root = payoutRoot[month];
        if (root == bytes32(0)) revert UnknownMonth(month);
        uint256 slot = _claimedSlot(month, index);
        uint256 word;
        assembly ("memory-safe") {
            word := sload(slot)
        }
        uint256 bit = 1 << (index & 0xff);
        if (word & bit != 0) revert AlreadyClaimed(month, index);
        if (_rootOf(proof, _leaf(index, account, amount)) != root) revert InvalidProof();
        assembly ("memory-safe") {
            sstore(slot, or(word, bit))
        }
        if (!usdc.transfer(account, amount)) revert TransferFailed();
        emit Claimed(month, index);
    }

    function isClaimed(uint32 month, uint256 index) external view returns (bool) {
        return claimedBits[month][index >> 8] & (1 << (index & 0xff)) != 0;
    }

    // ---- poison pill -------------------------------------------------------------------

    /// @notice Fires the pill if the anchor holds an equivocation (X1.4) or the due month's root
    /// is late (X1.2). Anyone may call it.
    function fireTrigger() external {
        if (trigger != Trigger.None) revert AlreadyTerminated();
        Trigger due = dueTrigger();
        if (due == Trigger.None) revert NoTrigger();
        _terminate(due);
    }

    /// @notice The trigger a call would fire now, or None.
    function dueTrigger() public view returns (Trigger) {
        if (checkpointAnchor.equivocated()) return Trigger.Equivocation;
        if (block.timestamp >= deadline(nextMonth)) return Trigger.MissedRoot;
        return Trigger.None;
    }

    /// @notice After termination, pays an active member `pool * weight / totalWeight`, rounded
    /// down (rule X2). Fires a due trigger first, so one call suffices. Anyone may send it.
    function withdraw(uint256 index, address account, uint256 weight, bytes32[] calldata proof) external {
        if (trigger == Trigger.None) {
            Trigger due = dueTrigger();
            if (due == Trigger.None) revert NotTerminated();
            _terminate(due);
        }
        uint256 word = withdrawnBits[index >> 8];
        uint256 bit = 1 << (index & 0xff);
        if (word & bit != 0) revert AlreadyWithdrawn(index);
        if (_rootOf(proof, _leaf(index, account, weight)) != weightsRoot) revert InvalidProof();
        withdrawnBits[index >> 8] = word | bit;
        uint256 share = pool * weight / totalWeight;
        uint256 withdrawn = withdrawnTotal + share;
        // Only a weights root whose weights exceed its declared total could reach this.
        if (withdrawn > pool) revert PoolExhausted();
        withdrawnTotal = withdrawn;
        if (!usdc.transfer(account, share)) revert TransferFailed();
        emit Withdrawn(index, account, share);
    }

    function isWithdrawn(uint256 index) external view returns (bool) {
        return withdrawnBits[index >> 8] & (1 << (index & 0xff)) != 0;
    }

    // ---- views -------------------------------------------------------------------------

    /// @notice When month `month`'s root is late: 00:00 UTC on the 4th of the month after.
    function deadline(uint32 month) public pure returns (uint256) {
        uint256 following = uint256(month) + 1;
        return (_daysFromCivil(following / 12, following % 12 + 1) + RUN_DEADLINE_DAYS) * 1 days;
    }

    /// @notice The EIP-712 digest the exchange signs for a submission.
    function submissionDigest(RootSubmission calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ROOT_SUBMISSION_TYPEHASH,
                    s.month,
                    s.payoutRoot,
                    s.payoutTotal,
                    s.income,
                    s.memberShare,
                    s.weightsRoot,
                    s.totalWeight,
                    s.checkpointSize,
                    s.checkpointRoot
                )
            )
        );
    }

    // ---- internals ---------------------------------------------------------------------

    function _terminate(Trigger why) private {
        trigger = why;
        terminatedAt = uint64(block.timestamp);
        pool = unreserved;
        unreserved = 0;
        emit Terminated(why, pool);
    }

    /// @dev The leaf hash, `keccak256(bytes.concat(keccak256(abi.encode(index, account, value))))`,
    /// computed in scratch memory: the high-level form allocates two memory arrays a claim
    /// pays for. The free memory pointer is not moved, so nothing else sees the bytes.
    function _leaf(uint256 index, address account, uint256 value) private pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            let free := mload(0x40)
            mstore(free, index)
            mstore(add(free, 0x20), and(account, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(free, 0x40), value)
            mstore(0x00, keccak256(free, 0x60))
            leaf := keccak256(0x00, 0x20)
        }
    }

    /// @dev The root `proof` leads to from `leaf`, hashing sorted pairs as OpenZeppelin's
    /// `MerkleProof.processProofCalldata` does (StandardMerkleTree), in one assembly loop: a
    /// claim walks 24 levels for 10 million members, and the library's loop (bounds check and a
    /// function call per level) costs about 40 gas a level more. `Treasury` tests check it
    /// against `assay-rails` proofs and wrong ones.
    function _rootOf(bytes32[] calldata proof, bytes32 leaf) private pure returns (bytes32 node) {
        assembly ("memory-safe") {
            node := leaf
            let end := add(proof.offset, shl(5, proof.length))
            for { let at := proof.offset } lt(at, end) { at := add(at, 0x20) } {
                let sibling := calldataload(at)
                // The smaller hash goes first: node at 0x20 if it is the larger.
                let nodeLarger := gt(node, sibling)
                mstore(shl(5, nodeLarger), node)
                mstore(shl(5, iszero(nodeLarger)), sibling)
                node := keccak256(0x00, 0x40)
            }
        }
    }

    /// @dev The storage slot of `claimedBits[month][index >> 8]` (Solidity's mapping layout,
    /// so `isClaimed` reads the same word), computed once for the read and the write.
    function _claimedSlot(uint32 month, uint256 index) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0x00, month)
            mstore(0x20, claimedBits.slot)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, shr(8, index))
            slot := keccak256(0x00, 0x40)
        }
    }

    /// @dev Days from 1970-01-01 to the 1st of (year, month), month 1..12: Howard Hinnant's
    /// days_from_civil for years from 0, as `assay_core` computes calendar days.
    function _daysFromCivil(uint256 year, uint256 month) private pure returns (uint256) {
        uint256 y = month <= 2 ? year - 1 : year;
        uint256 era = y / 400;
        uint256 yoe = y - era * 400;
        uint256 mp = month > 2 ? month - 3 : month + 9;
        uint256 doy = (153 * mp + 2) / 5; // day 1
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }
}
