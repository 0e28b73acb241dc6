"""Print the gas of each rule operation of BindLedger, and fail if any exceeds the budget.

Usage:
    python scripts/gas_rules.py    # exit 0 when every operation is within GAS_BUDGET, else 1

Runs on an embedded eth-tester chain with the committed artifact of BindLedgerHarness (BindLedger
with a clock the script sets), so it needs neither a node nor a compiler. Each operation is
measured in its costly case: the first record of a subject and of a phone, a rebind onto another
subject's phone (a number reuse) that flags 3 loans, a liveness check that clears them and the
reuse and a risk warning (R9), a disbursement whose exposure check (R7) walks
MEASURED_OPEN_LOANS open loans at two platforms, loans of 12 and of 36 (the maximum)
installments, a repayment that closes a loan, a regulator's write-off, and the attestation of a
refused disbursement (the subject's first, and one refused under R7 after the walk of
MEASURED_OPEN_LOANS open loans).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")  # before eth-hash picks its backend

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account
from eth_utils.crypto import keccak
from web3 import EthereumTesterProvider, Web3

from ledger.artifacts import load_artifact
from ledger.core.records import (
    MAX_INSTALLMENTS,
    ZERO_HASH,
    Binding,
    BindingAction,
    ChannelChange,
    CollectionContact,
    Consent,
    ConsentAction,
    Disbursement,
    Dispute,
    DisputeAction,
    Domain,
    LoanCreation,
    Purpose,
    Record,
    Repayment,
    RiskWarning,
    Verification,
    VerificationMethod,
    factor_mask,
    sign_record,
)

# The budget for every rule operation.
GAS_BUDGET = 150_000
# Open loans of the measured subject: the contract's maximum (_MAX_OPEN_LOANS), which
# disbursements walk; rebinds and liveness checks flag or clear those at their platform (at most
# _MAX_OPEN_LOANS_PER_PLATFORM, 3).
MEASURED_OPEN_LOANS = 6
_T0 = 1_767_225_600
_DAY = 86_400
_PLATFORM_KEYS = (b"\xa0" * 32, b"\xa1" * 32)
_PLATFORM_ROLE = keccak(text="PLATFORM_ROLE")
_REGULATOR_ROLE = keccak(text="REGULATOR_ROLE")
_SUBMIT = {
    Binding: "recordBinding",
    Verification: "recordVerification",
    Consent: "recordConsent",
    LoanCreation: "createLoan",
    Disbursement: "disburse",
    Repayment: "repay",
    ChannelChange: "changeRepaymentChannel",
    CollectionContact: "recordCollectionContact",
    Dispute: "recordDispute",
    RiskWarning: "recordRiskWarning",
}


class _Driver:
    """Deploys BindLedgerHarness and relays records signed by two platforms."""

    def __init__(self) -> None:
        self.w3 = Web3(EthereumTesterProvider())
        self.admin, self.relayer, self.regulator = self.w3.eth.accounts[:3]
        artifact = load_artifact("BindLedgerHarness")
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._wait(factory.constructor(self.admin).transact({"from": self.admin}))
        self.contract = self.w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
        self.domain = Domain(int(self.w3.eth.chain_id), self.contract.address)
        self.platforms = [Account.from_key(key) for key in _PLATFORM_KEYS]
        self.heads: dict[tuple[str, bytes], bytes] = {}
        self.now = _T0
        functions = self.contract.functions
        tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        for platform in self.platforms:
            self.gas(functions.grantRole(_PLATFORM_ROLE, platform.address), self.admin)
            # A platform attests its own refusals (attestRefusal): it sends transactions.
            tester.add_account(platform.key.hex())
            self.w3.eth.send_transaction(
                {"from": self.admin, "to": platform.address, "value": 10**18})
        self.gas(functions.grantRole(_REGULATOR_ROLE, self.regulator), self.admin)
        self.set_time(_T0)

    def _wait(self, tx_hash: Any) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError("a measured transaction failed")
        return receipt

    def gas(self, call: Any, sender: str | None = None) -> int:
        return int(self._wait(call.transact({"from": sender or self.relayer}))["gasUsed"])

    def set_time(self, time: int) -> None:
        self.now = time
        self.gas(self.contract.functions.setTime(time))

    def submit(self, kind: type[Record], subject: bytes, *extra: Any, at: int = 0,
               **members: Any) -> int:
        """Relays a record of platform number `at` (0 or 1); returns the gas it used."""
        record, call = self.call(kind, subject, *extra, at=at, **members)
        used = self.gas(call)
        self.heads[(record.platform, subject)] = record.digest(self.domain)
        return used

    def call(self, kind: type[Record], subject: bytes, *extra: Any, at: int = 0,
             **members: Any) -> tuple[Record, Any]:
        """A record of platform number `at` on the subject's head, and the call relaying it."""
        platform = self.platforms[at]
        record = kind(
            platform=platform.address,
            subject=subject,
            prev=self.heads.get((platform.address, subject), ZERO_HASH),
            timestamp=self.now,
            **members,
        )
        signed = sign_record(record, self.domain, bytes(platform.key))
        function = getattr(self.contract.functions, _SUBMIT[kind])
        return record, function(tuple(record.to_eip712_message().values()), signed.signature,
                                *extra)

    def attest(self, kind: type[Record], subject: bytes, at: int = 0, **members: Any) -> int:
        """Has platform number `at` attest the refusal of a record; returns the gas it used."""
        _, call = self.call(kind, subject, at=at, **members)
        calldata = call._encode_transaction_data()
        return self.gas(self.contract.functions.attestRefusal(calldata),
                        self.platforms[at].address)


def _schedule(count: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    due_times = tuple(_T0 + 30 * _DAY * (i + 1) for i in range(count))
    return due_times, (1_000,) * count


def measure() -> dict[str, int]:
    """Returns the gas used by each rule operation, by name, in its costly case."""
    d = _Driver()
    gas: dict[str, int] = {}
    subject, other = keccak(text="gas-subject"), keccak(text="other-subject")
    phone, phone_2 = keccak(text="phone"), keccak(text="phone-2")
    account, policy = keccak(text="account"), keccak(text="policy")
    two_factors = factor_mask([VerificationMethod.SMS_OTP, VerificationMethod.LIVENESS])

    def binding(action: BindingAction, at: int = 0, who: bytes = subject,
                number: bytes = phone) -> int:
        return d.submit(Binding, who, at=at, action=action, phone=number, account=account,
                        factors=two_factors)

    def loan(name: str, count: int, at: int) -> tuple[bytes, tuple[int, ...], tuple[int, ...]]:
        loan_id = keccak(text=name)
        due_times, amounts = _schedule(count)
        gas[f"createLoan ({count} installments)"] = d.submit(
            LoanCreation, subject, at=at, loan=loan_id, due_times=due_times, amounts=amounts)
        return loan_id, due_times, amounts

    def disburse(loan_id: bytes, at: int, count: int) -> int:
        return d.submit(Disbursement, subject, at=at, loan=loan_id, amount=1_000 * count)

    gas["recordBinding BIND (first record of the subject and of the phone)"] = binding(
        BindingAction.BIND)
    binding(BindingAction.BIND, at=1)
    binding(BindingAction.BIND, at=1, who=other, number=phone_2)
    for at in (0, 1):
        gas["recordConsent GIVEN"] = d.submit(
            Consent, subject, at=at, action=ConsentAction.GIVEN, purpose=Purpose.LENDING,
            policy_hash=policy, expires_at=_T0 + 365 * _DAY)
        d.submit(Consent, subject, at=at, action=ConsentAction.GIVEN, purpose=Purpose.CONTACT,
                 policy_hash=policy, expires_at=_T0 + 365 * _DAY)

    # The most open loans (MEASURED_OPEN_LOANS): 3 at the second platform (its most), then 2
    # and one of the longest schedule at the first.
    theirs = [loan(f"their-loan-{i}", 12, 1) for i in range(3)]
    ours = [loan(f"loan-{i}", 12, 0) for i in range(2)]
    ours.append(loan("loan-max", MAX_INSTALLMENTS, 0))
    open_loans = [(1, entry) for entry in theirs] + [(0, entry) for entry in ours[:-1]]
    for i, (at, (loan_id, due_times, _)) in enumerate(open_loans):
        used = disburse(loan_id, at, len(due_times))
        if i == 0:  # the first loan of the subject's (empty) list of open loans
            gas["disburse (R1-R4, R9, R7 over 0 open loans)"] = used
    # Open disputes make R7 read one more slot of each loan: the longest walk.
    for at, (loan_id, _, _) in open_loans:
        gas["recordDispute OPEN"] = d.submit(Dispute, subject, at=at, loan=loan_id,
                                             action=DisputeAction.OPEN)
    walk = f"R7 over {len(open_loans)} open loans at 2 platforms, all disputed"
    gas[f"disburse (R1-R4, R9, {walk})"] = disburse(ours[-1][0], 0, MAX_INSTALLMENTS)
    # A seventh loan cannot be disbursed (R7): its refusal is attested after the longest walk.
    seventh, _, _ = loan("loan-7", 12, 0)
    gas["attestRefusal (disburse refused under R7 over 6 open loans, first refusal)"] = d.attest(
        Disbursement, subject, loan=seventh, amount=12_000)

    # A rebind onto the other subject's phone: a number reuse, and 3 loans flagged (R5).
    gas["recordBinding REBIND (number reuse, flags 3 loans)"] = binding(
        BindingAction.REBIND, number=phone_2)
    gas["recordVerification SIM_SWAP_CHECK positive (subject and phone cool)"] = d.submit(
        Verification, subject, method=VerificationMethod.SIM_SWAP_CHECK, passed=False,
        phone=phone_2)
    gas["attestRefusal (disburse refused under R4, second refusal)"] = d.attest(
        Disbursement, subject, loan=seventh, amount=12_000)
    # A warning naming the most top features (R9), then the first of the two checks it awaits.
    gas[f"recordRiskWarning ({MAX_INSTALLMENTS} top features, the most)"] = d.submit(
        RiskWarning, subject, model=keccak(text="model"), features=keccak(text="features"),
        score=9_000, threshold=5_000, top=tuple(range(MAX_INSTALLMENTS)))
    gas["recordVerification SIM_SWAP_CHECK passed (first check after a warning)"] = d.submit(
        Verification, subject, method=VerificationMethod.SIM_SWAP_CHECK, passed=True,
        phone=phone_2)
    # The other subject takes the number back: now this subject's number was reused.
    binding(BindingAction.REBIND, at=1, who=other, number=phone_2)
    gas["recordVerification LIVENESS passed (clears 3 loans, the reuse and the warning)"] = d.submit(
        Verification, subject, method=VerificationMethod.LIVENESS, passed=True, phone=phone)
    gas["recordVerification SMS_OTP (no rule effect)"] = d.submit(
        Verification, subject, method=VerificationMethod.SMS_OTP, passed=True, phone=phone)
    d.set_time(d.now + 4 * _DAY)  # past the cooling period

    first = ours[0][0]
    gas["changeRepaymentChannel"] = d.submit(ChannelChange, subject, loan=first,
                                             channel=keccak(text="bank-2"))
    gas["recordCollectionContact"] = d.submit(CollectionContact, subject, loan=first,
                                              channel=phone)
    d.set_time(d.now + _DAY)
    gas["recordDispute CLOSE"] = d.submit(Dispute, subject, loan=first,
                                          action=DisputeAction.CLOSE)

    loan_id, due_times, amounts = ours[0]
    gas["repay (12 installments, partial)"] = d.submit(
        Repayment, subject, list(due_times), list(amounts), loan=loan_id, amount=500)
    gas["repay (12 installments, first installment paid)"] = d.submit(
        Repayment, subject, list(due_times), list(amounts), loan=loan_id, amount=500)
    max_id, max_due, max_amounts = ours[-1]
    gas[f"repay ({MAX_INSTALLMENTS} installments, closes the loan)"] = d.submit(
        Repayment, subject, list(max_due), list(max_amounts), loan=max_id,
        amount=sum(max_amounts))
    gas["recordConsent WITHDRAWN"] = d.submit(
        Consent, subject, action=ConsentAction.WITHDRAWN, purpose=Purpose.CONTACT,
        policy_hash=policy, expires_at=0)
    gas["recordBinding UNBIND"] = binding(BindingAction.UNBIND)

    functions = d.contract.functions
    gas["setPlatformFrozen"] = d.gas(functions.setPlatformFrozen(d.platforms[0].address, True),
                                     d.regulator)
    gas["setLoanFrozen"] = d.gas(
        functions.setLoanFrozen(d.platforms[0].address, subject, loan_id, True), d.regulator)
    gas["setParameter (a loan term)"] = d.gas(functions.setParameter(2, 10 * _DAY), d.admin)
    gas["setParameter (cooling)"] = d.gas(functions.setParameter(1, 48 * 3600), d.admin)
    leaver = d.platforms[1].address
    d.gas(functions.revokeRole(_PLATFORM_ROLE, leaver), d.admin)
    gas["writeOffLoan"] = d.gas(functions.writeOffLoan(leaver, subject, theirs[0][0]),
                                d.regulator)
    return gas


def main(print_line: Callable[[str], None] = print) -> int:
    """Prints the table; returns 1 when an operation exceeds GAS_BUDGET, else 0."""
    gas = measure()
    width = max(map(len, gas))
    over = {name: used for name, used in gas.items() if used > GAS_BUDGET}
    for name, used in gas.items():
        print_line(f"{name:<{width}}  {used:>7,} gas{'  OVER BUDGET' if name in over else ''}")
    print_line(f"budget {GAS_BUDGET:,} gas per operation: "
               + (f"{len(over)} over" if over else "all within"))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
