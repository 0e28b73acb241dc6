"""BindLedger: a tamper-evident ledger of phone-binding evidence for consumer-credit platforms."""
