// SPDX-License-Identifier: AGPL-3.0-only
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestUSDC
/// @notice A stand-in for USDC in tests and gas measurements only: OpenZeppelin's ERC-20 with
/// USDC's 6 decimals (one unit is one micro-USD) and a mint anyone may call.
contract TestUSDC is ERC20 {
    constructor() ERC20("Test USD Coin", "tUSDC") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
