"""The layout of the public directory and which files in it may be served.

Pure path logic (no framework imports): `Site.public_file` and `Site.vendor_file`
return a path only if it is a regular file inside the right directory, so path
traversal, symlinks out of the tree and hidden files are refused in one place.
"""

import logging
from pathlib import Path
from typing import Annotated

import msgspec

log = logging.getLogger("medpress.site")

VENDOR_PLACEHOLDER = "{{VENDOR}}"
UNBUILT = "unbuilt"


class VendorBuild(msgspec.Struct, frozen=True):
    """``public/vendor/build.json``, written by the setup step."""

    build_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    wheels: list[str] = []


def read_build_id(vendor_dir: Path) -> str | None:
    """The current vendor build id, or ``None`` (logged) if the setup has not produced one."""
    try:
        raw = (vendor_dir / "build.json").read_bytes()
    except OSError:
        log.warning(
            "%s/build.json is missing: run the setup to build the vendor assets; "
            "the page will not load until then",
            vendor_dir,
        )
        return None
    try:
        return msgspec.json.decode(raw, type=VendorBuild).build_id
    except msgspec.DecodeError as error:  # malformed JSON or the wrong shape
        log.warning("%s/build.json is invalid (%s): run the setup again", vendor_dir, error)
        return None


class Site:
    def __init__(self, public_dir: Path, build_id: str | None) -> None:
        self.public_dir = public_dir.resolve()
        self.vendor_dir = self.public_dir / "vendor"
        self.index_path = self.public_dir / "index.html"
        self.dashboard_path = self.public_dir / "dashboard.html"
        self.build_id = build_id

    @classmethod
    def load(cls, public_dir: Path) -> "Site":
        return cls(public_dir, read_build_id(public_dir.resolve() / "vendor"))

    @property
    def vendor_prefix(self) -> str:
        return f"/vendor/{self.build_id or UNBUILT}"

    def render_index(self, template: str) -> str:
        return template.replace(VENDOR_PLACEHOLDER, self.vendor_prefix)

    def public_file(self, relative: str) -> Path | None:
        """A file under the public dir, except the page templates (index.html, dashboard.html:
        served only rendered) and anything under vendor/."""
        path = _contained_file(self.public_dir, relative)
        if (
            path is None
            or path in (self.index_path, self.dashboard_path)
            or path.is_relative_to(self.vendor_dir)
        ):
            return None
        return path

    def vendor_file(self, build_id: str, relative: str) -> Path | None:
        """A vendor file, only under the current build id (never when unbuilt)."""
        if self.build_id is None or build_id != self.build_id:
            return None
        return _contained_file(self.vendor_dir, relative)


def _contained_file(root: Path, relative: str) -> Path | None:
    parts = [part for part in relative.split("/") if part]
    if not parts or any(part.startswith(".") or "\x00" in part or "\\" in part for part in parts):
        return None
    try:
        path = root.joinpath(*parts).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
    except (OSError, ValueError):
        return None
    return path
