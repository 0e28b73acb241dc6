"""BindLedger: a tamper-evident ledger of phone-binding evidence for consumer-credit platforms."""

import os

# eth-hash picks its keccak backend once, at first import; pycryptodome's is about five
# times slower than pysha3's, and keccak sits on every record hash and signature check.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
