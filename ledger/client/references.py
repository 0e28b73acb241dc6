"""Keyed references computed on the platform, by the same code the server uses."""

from __future__ import annotations

from ledger.core.refs import DEFAULT_REGION, phone_ref
from ledger.drafts import Referencer


class References:
    """HMAC-SHA256 references under the consortium's reference secret.

    Requires a secret of at least 16 bytes (WeakSecretError otherwise). A `str` secret is
    taken as UTF-8, as the server reads BINDLEDGER_REF_SECRET. The secret never appears in
    this object's repr.
    """

    def __init__(self, secret: bytes | str, default_region: str = DEFAULT_REGION) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        self._refs = Referencer(raw)
        self._region = default_region

    def __repr__(self) -> str:
        return "References(secret=<hidden>)"

    def subject(self, raw_id: str) -> bytes:
        """The reference of a borrower's ID number (case and width normalised)."""
        return self._refs.subject(raw_id)

    def phone(self, raw_phone: str) -> bytes:
        """The reference of a phone number in any accepted form (`138 0013 8000`,
        `+86 138 0013 8000`); national numbers are read in the default region.
        Raises InvalidPhoneNumberError."""
        return phone_ref(self._refs.secret, raw_phone, self._region)

    def account(self, raw_account: str) -> bytes:
        """The reference of a loan account or repayment account number."""
        return self._refs.account(raw_account)

    def loan(self, platform: str, raw_loan_id: str) -> bytes:
        """A loan's id from the platform's own loan number, as `POST /v1/loans` computes it."""
        return self._refs.loan(platform, raw_loan_id)
