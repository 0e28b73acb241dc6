"""The BindLedger HTTP API (FastAPI): thin routes over `ledger`."""
