"""Early warning: a learned risk score over the ledger's own records.

The fourth layer of protection after verification at binding, binding before disbursement and
monitoring after it (rules R1-R8). `features` turns the records BindLedger holds about a
subject and its phone reference (keyed references and times only, never raw data) into one
feature vector, the same function for training and for scoring; `simulate` draws a labelled,
seeded synthetic population of borrower histories as real record objects, with every rate in
`population`, and it is the only data a model ever sees; `model` trains a calibrated logistic
regression and writes it as canonical JSON, so its SHA-256 is reproducible; `evaluate` measures
it on a held-out population beside the rules alone and a hand-written score; `warnings` writes
the ModelRelease record and the RiskWarning, which it relays to the contract; the contract
enforces rule R9 (a warned subject is not disbursed to before a fresh passed liveness check and
a passed SIM-swap check), and `rules_model` reads the same rule in Python, for `evaluate`.
"""
