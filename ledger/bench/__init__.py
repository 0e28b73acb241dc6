"""`bindledger bench`: gas and throughput of BindLedger, side by side with the alternatives.

Not part of the pure core and not imported by the service: the bench drives the real code paths
(the chain client, the ledger, the HTTP API) from outside, on eth-tester and on anvil, and writes
a JSON report, a table and a plot. See README, section Performance.
"""
