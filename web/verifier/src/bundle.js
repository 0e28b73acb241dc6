// Every check of a proof bundle (docs/spec/verification.md), against the node the user chose.
import { concat, equalBytes, fromHex, keccak, toBigInt, toHex, utf8 } from "./bytes.js";
import { leafHash, ProofShapeError, rootFromInclusion } from "./merkle.js";
import { recordHash, recoverSigner, SignatureError } from "./records.js";
import { checkRefusal } from "./refusal.js";
import { matchingRelease } from "./releases.js";
import { quantity, RpcError } from "./rpc.js";
import { bundleVerdict, CHECK, failed, passed, skipped } from "./verdict.js";

export const HEAD_ANCHORED = keccak(utf8("HeadAnchored(address,uint256,uint64,bytes32,uint64)"));

function checkRecordHash(bundle, digest) {
  if (!equalBytes(digest, bundle.recordHash)) {
    return failed(CHECK.RECORD_HASH, "the record's EIP-712 hash under the anchor's domain differs from recordHash",
      toHex(bundle.recordHash), toHex(digest));
  }
  return passed(CHECK.RECORD_HASH, `recomputed ${toHex(digest)}`);
}

function checkSignature(bundle, digest) {
  const platform = bundle.record.values.platform;
  let signer;
  try {
    signer = recoverSigner(digest, bundle.record.signature); // the recomputed hash, never recordHash
  } catch (err) {
    if (err instanceof SignatureError) return failed(CHECK.SIGNATURE, err.message);
    throw err;
  }
  if (signer !== platform) {
    return failed(CHECK.SIGNATURE, "the signature was not made by the record's platform", platform, signer);
  }
  if (platform !== bundle.anchor.platform) {
    return failed(CHECK.SIGNATURE, "the record's platform is not the anchoring platform", bundle.anchor.platform, platform);
  }
  return passed(CHECK.SIGNATURE, `signed by platform ${signer}`);
}

function checkInclusion(bundle) {
  if (bundle.treeSize !== bundle.head.treeSize) {
    return failed(CHECK.INCLUSION, "the proof is for another tree size than the head", bundle.head.treeSize, bundle.treeSize);
  }
  let root;
  try {
    root = rootFromInclusion(leafHash(bundle.recordHash), bundle.leafIndex, bundle.treeSize, bundle.inclusionPath);
  } catch (err) {
    if (err instanceof ProofShapeError) return failed(CHECK.INCLUSION, err.message);
    throw err;
  }
  if (!equalBytes(root, bundle.head.rootHash)) {
    return failed(CHECK.INCLUSION, "the inclusion path does not lead to the head's root", toHex(bundle.head.rootHash), toHex(root));
  }
  return passed(CHECK.INCLUSION, `leaf ${bundle.leafIndex} is in the tree of size ${bundle.treeSize}`);
}

export function offlineChecks(bundle) {
  const { chainId, contract } = bundle.anchor;
  const digest = recordHash(bundle.record, chainId, contract);
  return [checkRecordHash(bundle, digest), checkSignature(bundle, digest), checkInclusion(bundle)];
}

/** Whether a log is the contract's HeadAnchored of this platform's head (size, root). */
function isHeadAnchored(log, bundle) {
  const { contract, platform } = bundle.anchor;
  if (typeof log.address !== "string" || log.address.toLowerCase() !== contract.toLowerCase()) return false;
  const topics = log.topics || [];
  const data = fromHex(log.data);
  if (topics.length !== 3 || topics[0] !== toHex(HEAD_ANCHORED) || !data || data.length !== 96) return false;
  return topics[1] === toHex(concat(new Uint8Array(12), fromHex(platform)))
    && toBigInt(data.slice(0, 32)) === bundle.head.treeSize
    && equalBytes(data.slice(32, 64), bundle.head.rootHash);
}

/** A1 to A3: the chain, a released BindLedger at anchor.contract, and the anchor transaction's
 * receipt carrying that contract's HeadAnchored event of this head (the same evidence in every
 * release; no release's storage is asked). Returns the check and, when it passed, the receipt. */
async function checkHeadOnChain(bundle, rpc) {
  const { chainId, contract, platform, txHash } = bundle.anchor;
  const name = CHECK.HEAD_ON_CHAIN;
  try {
    const nodeChain = BigInt(await rpc.call("eth_chainId"));
    if (nodeChain !== chainId) {
      return [failed(name, "the bundle was anchored on another chain", chainId, nodeChain), null];
    }
    const code = fromHex(await rpc.call("eth_getCode", contract, "latest"));
    if (!code || code.length === 0) {
      return [failed(name, `no contract at ${contract} on chain ${chainId}: this chain does not hold BindLedger's anchors`), null];
    }
    const release = matchingRelease(code);
    if (!release) {
      return [failed(name, `the contract at ${contract} on chain ${chainId} is not a released BindLedger version (its code differs from every known release)`), null];
    }
    const receipt = await rpc.call("eth_getTransactionReceipt", toHex(txHash));
    const problem = !receipt ? `transaction ${toHex(txHash)} is not on this chain`
      : BigInt(receipt.status) !== 1n ? "the transaction failed"
        : !(receipt.logs || []).some((log) => isHeadAnchored(log, bundle)) ? "its receipt holds no such HeadAnchored event"
          : null;
    if (problem) {
      return [failed(name,
        `the contract anchored no head of size ${bundle.head.treeSize} with this root for platform ${platform} in this transaction: ${problem}`,
        toHex(bundle.head.rootHash), "not anchored"), null];
    }
    return [passed(name,
      `root is platform ${platform}'s head at size ${bundle.head.treeSize} (BindLedger version ${release.version})`), receipt];
  } catch (err) {
    if (err instanceof RpcError) return [failed(name, `could not read the chain: ${err.message}`), null];
    throw err;
  }
}

/** A4 and A5: the anchor's block, canonical and of its time, and its confirmations. */
async function checkAnchorTransaction(bundle, rpc, receipt) {
  const name = CHECK.ANCHOR_TRANSACTION;
  const { blockNumber, blockHash, blockTime } = bundle.anchor;
  try {
    if (BigInt(receipt.blockNumber) !== blockNumber) {
      return failed(name, "the transaction is in another block", blockNumber, BigInt(receipt.blockNumber));
    }
    const block = await rpc.call("eth_getBlockByNumber", quantity(blockNumber), false);
    const wanted = toHex(blockHash);
    if (!block || block.hash !== wanted || receipt.blockHash !== wanted) {
      return failed(name, "the block hash differs (reorganised chain or altered bundle)", wanted, block ? block.hash : "no such block");
    }
    if (BigInt(block.timestamp) !== blockTime) {
      return failed(name, "the block time differs", blockTime, BigInt(block.timestamp));
    }
    const tip = BigInt(await rpc.call("eth_blockNumber"));
    const confirmations = tip - blockNumber + 1n;
    return passed(name, `anchored in block ${blockNumber} (${confirmations} confirmation${confirmations === 1n ? "" : "s"})`);
  } catch (err) {
    if (err instanceof RpcError) return failed(name, `could not read the chain: ${err.message}`);
    throw err;
  }
}

/** The chain checks of one anchor; a timeline's entries share a few, so each is read once. */
function chainChecks(bundle, rpc, cache) {
  const a = bundle.anchor;
  const key = [a.chainId, a.contract, a.platform, toHex(a.txHash), a.blockNumber, toHex(a.blockHash), a.blockTime,
    bundle.head.treeSize, toHex(bundle.head.rootHash)].join("|");
  if (!cache.has(key)) {
    cache.set(key, (async () => {
      const [head, receipt] = await checkHeadOnChain(bundle, rpc);
      if (!receipt) return [head, skipped(CHECK.ANCHOR_TRANSACTION, "the head is not on this chain")];
      return [head, await checkAnchorTransaction(bundle, rpc, receipt)];
    })());
  }
  return cache.get(key);
}

/** The verdict of a bundle. Throws NodeUnreachableError when the node does not answer. */
export async function verifyBundle(bundle, rpc, cache = new Map()) {
  const checks = [...offlineChecks(bundle), ...(await chainChecks(bundle, rpc, cache))];
  if (bundle.record.type === "Refusal") checks.push(await checkRefusal(bundle, rpc));
  return bundleVerdict(checks);
}
