"""The auditor's local copy of one platform's tiled log.

Layout: `<dir>/<platform>/tile/...`, each tile at its tlog-tiles path as served, plus
`checkpoint.json` (the server's checkpoint when last fetched) and `heads.json` (the platform's
heads as the chain held them at the last audit). Every file is written whole under a temporary
name and then renamed, so an interrupted download leaves only complete tiles behind: the next
run fetches what is missing and nothing else. Tiles are fixed by their paths, so a tile in the
mirror is never fetched again; partial tiles a wider one has replaced are removed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.audit.report import AuditInputError
from ledger.audit.tiles import Tile, parse_path

CHECKPOINT_FILE = "checkpoint.json"
HEADS_FILE = "heads.json"


@dataclass(frozen=True)
class Mirror:
    """One platform's mirror in `root` (its own folder). Picklable: worker processes read it."""

    root: Path

    @classmethod
    def open(cls, folder: Path, platform: str) -> Mirror:
        root = folder / platform
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditInputError(f"cannot use {root} as a mirror: {exc.strerror or exc}") from None
        return cls(root)

    def path_of(self, tile: Tile) -> Path:
        return self.root / tile.path

    def has(self, tile: Tile) -> bool:
        return self.path_of(tile).is_file()

    def read(self, tile: Tile) -> bytes:
        try:
            return self.path_of(tile).read_bytes()
        except OSError as exc:
            raise AuditInputError(
                f"cannot read {tile.path} from the mirror {self.root}: {exc.strerror or exc}"
            ) from None

    def write(self, tile: Tile, data: bytes) -> None:
        self._write(self.path_of(tile), data)

    def tiles(self) -> list[Tile]:
        """Every tile file in the mirror (files that are no tile path are left alone)."""
        found = []
        base = self.root / "tile"
        for path in base.rglob("*") if base.is_dir() else []:
            if path.is_file() and ".tmp-" not in path.name:
                try:
                    found.append(parse_path(path.relative_to(self.root).as_posix()))
                except ValueError:
                    continue
        return found

    def remove(self, tile: Tile) -> None:
        self.path_of(tile).unlink(missing_ok=True)

    def load_json(self, name: str) -> Any | None:
        """A state file's content, None when there is none; AuditInputError if unreadable."""
        path = self.root / name
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AuditInputError(f"cannot read {path}: {exc}") from None

    def save_json(self, name: str, doc: Any) -> None:
        self._write(self.root / name, (json.dumps(doc, indent=2) + "\n").encode())

    def _write(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
            os.replace(temporary, path)
        except OSError as exc:
            raise AuditInputError(f"cannot write {path}: {exc.strerror or exc}") from None
