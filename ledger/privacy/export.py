"""The subject's copy (PIPL art. 45): everything BindLedger holds about a subject at one
platform, in one zip archive that anyone can check against the chain.

- `timeline.json`: the subject's timeline (`bindledger.timeline/1`), every record with its
  proof, the Evidence and Erasure records beside the chain included;
- `evidence/record-<id>.bin`: each piece of evidence, decrypted (none once erased);
- `access.json`: the Access records of reads of the subject's data at this platform, each
  with its proof bundle once anchored;
- `manifest.json`: the SHA-256 of each file, and for each piece of evidence its salt and
  commitment, which the Evidence record in the timeline carries.

`check_copy` checks the manifest against the files, each evidence file against its anchored
commitment, and the timeline against the chain.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from ledger.chain.client import ChainClient
from ledger.core.encoding import from_hex, to_hex
from ledger.core.records import Evidence
from ledger.core.timeline import Timeline
from ledger.errors import LedgerValueError
from ledger.privacy.commitment import opens
from ledger.privacy.setup import privacy_for
from ledger.service import Ledger, NotAnchoredError
from ledger.timeline import export_timeline, verify_timeline

COPY_FORMAT = "bindledger.subject-copy/1"
# A subject's copy holds at most a few dozen records and pieces of evidence of 1 MiB each.
MAX_COPY_BYTES = 256 * 1024 * 1024


class SubjectCopyError(LedgerValueError):
    """A subject's copy is unreadable, or a file does not match its manifest."""


@dataclass(frozen=True)
class CopyCheck:
    problems: list[str]
    timeline_verified: bool

    @property
    def verified(self) -> bool:
        return not self.problems and self.timeline_verified


def subject_copy(ledger: Ledger, platform: str, subject: bytes, created_at: int) -> bytes:
    """The subject's copy as zip bytes. Raises NotAnchoredError while a record is unanchored
    (the timeline needs every proof)."""
    privacy = privacy_for(ledger)
    timeline = export_timeline(ledger, platform, subject)
    files: dict[str, bytes] = {"timeline.json": _json(timeline.to_json())}
    evidence = []
    for opened in privacy.vault.evidence_of_subject(platform, subject):
        row = opened.row
        name = f"evidence/record-{row.record_id}.bin"
        files[name] = opened.content
        record = ledger.record(row.record_id)
        evidence.append({"file": name, "record": to_hex(record.row.record_hash),
                         "mediaType": row.media_type, "salt": to_hex(row.salt),
                         "commitment": to_hex(row.commitment)})
    access = []
    for accepted in privacy.access.about(platform, subject):
        try:
            access.append(ledger.proof_bundle(accepted.row.id).to_json())
        except NotAnchoredError:
            access.append({"record": accepted.record.to_json(), "anchored": False})
    files["access.json"] = _json({"accessLog": privacy.access.address, "reads": access})
    manifest = {
        "format": COPY_FORMAT,
        "platform": platform,
        "subject": to_hex(subject),
        "createdAt": created_at,
        "files": [{"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                   "size": len(data)} for path, data in files.items()],
        "evidence": evidence,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", _json(manifest))
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def check_copy(data: bytes, chain: ChainClient) -> CopyCheck:
    """Check a subject's copy: files against the manifest, evidence against the commitments
    of the timeline's Evidence records, the timeline against the chain."""
    problems: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_COPY_BYTES:
                raise SubjectCopyError("the copy is larger than a subject's copy can be")
            files = {name: archive.read(name) for name in archive.namelist()}
        manifest = json.loads(files.pop("manifest.json"))
        timeline = Timeline.from_json(json.loads(files["timeline.json"]))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SubjectCopyError(f"not a readable subject's copy: {exc}") from None
    listed = {entry["path"]: entry for entry in manifest["files"]}
    if set(listed) != set(files):
        problems.append(f"files and manifest differ: {sorted(set(listed) ^ set(files))}")
    for path, entry in listed.items():
        if path in files and hashlib.sha256(files[path]).hexdigest() != entry["sha256"]:
            problems.append(f"{path} does not match its SHA-256 in the manifest")
    commitments = {
        (to_hex(e.record.record.record), to_hex(e.record.record.commitment))
        for e in timeline.entries if isinstance(e.record.record, Evidence)
    }
    for item in manifest["evidence"]:
        if (item["record"], item["commitment"]) not in commitments:
            problems.append(f"{item['file']}: no anchored Evidence record commits to it")
        elif not opens(from_hex(item["commitment"], length=32),
                       from_hex(item["salt"], length=32), item["mediaType"],
                       files.get(item["file"], b"")):
            problems.append(f"{item['file']} is not the evidence its commitment names")
    return CopyCheck(problems, verify_timeline(timeline, chain).verified)


def _json(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
