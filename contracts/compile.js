// Compiles src/*.sol with the pinned solc-js (package-lock.json) and writes one artifact per
// deployable contract: artifacts/<Name>.json = {contractName, abi, bytecode, deployedBytecode}.
// Settings are fixed here so the bytes are reproducible: optimizer on, evmVersion explicit, no
// metadata hash appended. Usage: node compile.js OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const CONTRACTS = ['TestUSDC', 'CheckpointAnchor', 'Treasury'];
const outDir = process.argv[2];
if (!outDir) throw new Error('usage: node compile.js OUT_DIR');

const srcDir = path.join(__dirname, 'src');
const sources = {};
for (const file of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[`src/${file}`] = { content: fs.readFileSync(path.join(srcDir, file), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 10000 },
    evmVersion: 'cancun',
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
function findImports(name) {
  const candidate = path.join(__dirname, 'node_modules', name);
  if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  return { error: `not found: ${name}` };
}
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) process.stderr.write(e.formattedMessage);
if (errors.length > 0) process.exit(1);

fs.mkdirSync(outDir, { recursive: true });
for (const name of CONTRACTS) {
  const contract = output.contracts[`src/${name}.sol`][name];
  const artifact = {
    contractName: name,
    compiler: `solc ${solc.version()}`,
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
  };
  fs.writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
}
