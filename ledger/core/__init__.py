"""The pure core of BindLedger.

Everything in this package is consensus-critical and free of I/O: canonical encoding,
record hashing, keyed references, the RFC 9162 Merkle log and proof verification.
No database, chain, network or clock is touched here; code around it supplies them.
"""
