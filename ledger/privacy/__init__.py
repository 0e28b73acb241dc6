"""Privacy by design under PIPL: the evidence vault and the access log.

Records carry keyed references only; the evidence behind them (a carrier's answer, an OTP
receipt, a consent text) is personal information and lives in the vault, encrypted with a
data key per subject that is itself wrapped by a configured, rotatable key-encryption key
(keys.py); each piece is committed to by a salted hash (commitment.py) in an Evidence record
anchored beside the subject's chain (vault.py). Erasing a subject destroys its data key and
writes an anchored Erasure record: the evidence is gone for everyone while the timeline still
verifies (art. 47). Every read of a subject's data leaves a signed Access record in an access
log of its own, anchored like a platform's (access.py, art. 54), and a subject's copy bundles
the timeline, the evidence and those access records (export.py, art. 45).
"""
