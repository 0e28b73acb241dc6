"""The regulator's full audit of a platform's log. A BindLedger server serves each platform's
whole log in the C2SP tlog-tiles layout (tiles of 256 hashes and bundles of the stored records,
up to the latest final anchored head: `source`, `tiles`, `checkpoint`); `bindledger audit`
mirrors those tiles into a local folder, fetching only what is new since the last audit
(`fetch`, `mirror`), and checks all of it against the chain and nothing else: every record's
EIP-712 hash and platform signature, every served hash against the tree recomputed from the
records, every head the contract holds for the platform against the recomputed root at its
size and against its predecessor by a consistency proof, every subject's hash chain and the
subject heads the contract holds, and every refusal by replaying it (`records`, `scan` over
worker processes, `checks`, `onchain`, `run`). Each failure is named by its position (leaf
index, tile path, head index) in a JSON report (`report`); `command` is the CLI's side.
"""
