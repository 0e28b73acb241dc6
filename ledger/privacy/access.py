"""The access log (PIPL art. 54): one signed, anchored Access record per read of a subject's
data, whoever reads it.

The log is a Merkle log of its own, kept and anchored exactly like a platform's: its records
are signed by BindLedger's access-log account (a pseudo-platform with no API key), sealed and
anchored by the same worker, and each has a proof bundle that `bindledger verify` checks. The
records name the subject by its keyed reference and the record read by its hash: the log says
who read what, when and why, and nothing about the subject itself.
"""

from __future__ import annotations

import secrets

from eth_account import Account

from ledger.config import KeyHolder, Platform
from ledger.core.records import Access, AccessPurpose, AccessRole, Record
from ledger.service import Accepted, Ledger

ACCESS_LOG_NAME = "bindledger-access-log"

# Why a key holder of each role reads, unless a route says otherwise.
DEFAULT_PURPOSE = {
    AccessRole.PLATFORM: AccessPurpose.SERVICE,
    AccessRole.REGULATOR: AccessPurpose.SUPERVISION,
    AccessRole.ADMIN: AccessPurpose.OPERATION,
}


def access_log_platform(private_key: str) -> Platform:
    """The access log's account as a platform of the ledger, so that the anchoring worker
    seals and anchors its log. Its API key is random and never handed out (and the API's
    keyring leaves it out): nobody calls the API as the access log."""
    return Platform(name=ACCESS_LOG_NAME, api_key=secrets.token_urlsafe(32),
                    account=Account.from_key(private_key))


class AccessLog:
    def __init__(self, ledger: Ledger, platform: Platform) -> None:
        self.ledger = ledger
        self.platform = platform

    @property
    def address(self) -> str:
        return self.platform.address

    def record(
        self,
        reader: KeyHolder,
        route: str,
        owner: str,
        subject: bytes,
        target: bytes,
        purpose: AccessPurpose | None = None,
    ) -> Accepted:
        """Write and commit the Access record of one read: `reader` read, through `route`,
        `owner`'s record `target` (a hash) of `subject`, or the whole subject (`target` is
        then the subject's reference)."""
        role = AccessRole[reader.ROLE.upper()]

        def build(prev: bytes) -> Record:
            return Access(platform=self.address, subject=subject, prev=prev,
                          timestamp=self.ledger.now(), role=role,
                          holder=reader.name.encode(), purpose=purpose or DEFAULT_PURPOSE[role],
                          route=route.encode(), owner=owner, target=target)

        # On the subject's latest read, under the ledger's write lock: two reads in the same
        # second still make two records.
        return self.ledger.sign_and_submit(self.platform, subject, build)

    def about(self, owner: str, subject: bytes) -> list[Accepted]:
        """The Access records of reads of `owner`'s data about `subject`, in log order."""
        found = []
        for row in self.ledger.store.records_of_subject(self.address, subject):
            accepted = self.ledger.read(row)
            record = accepted.record.record
            if isinstance(record, Access) and record.owner == owner:
                found.append(accepted)
        return found
