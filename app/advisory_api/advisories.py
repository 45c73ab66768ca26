"""The advisory index: which versions of which package each advisory affects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


class AdvisoryDataError(ValueError):
    """The bundled advisory data is malformed; the service refuses to start on it."""


class InvalidQuery(ValueError):
    """A lookup request names an invalid package or version (answered with HTTP 400)."""


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    package: str
    affected: SpecifierSet
    fixed: str | None
    severity: str
    summary: str
    url: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "package": self.package,
            "affected": str(self.affected),
            "fixed": self.fixed,
            "severity": self.severity,
            "summary": self.summary,
            "url": self.url,
        }


class AdvisoryIndex:
    def __init__(self, advisories: list[Advisory]) -> None:
        self._by_package: dict[str, list[Advisory]] = {}
        for advisory in advisories:
            self._by_package.setdefault(canonicalize_name(advisory.package), []).append(advisory)

    def __len__(self) -> int:
        return sum(len(items) for items in self._by_package.values())

    @classmethod
    def from_json(cls, text: str, source: str = "advisories.json") -> AdvisoryIndex:
        try:
            document = json.loads(text)
            entries = document["advisories"]
            if not isinstance(entries, list):
                raise TypeError("'advisories' is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise AdvisoryDataError(f"{source}: not an advisory document: {exc}") from exc
        return cls([_parse_entry(entry, f"{source}: advisories[{i}]") for i, entry in enumerate(entries)])

    @classmethod
    def bundled(cls) -> AdvisoryIndex:
        text = resources.files(__package__).joinpath("data/advisories.json").read_text(encoding="utf-8")
        return cls.from_json(text, source="advisory_api/data/advisories.json")

    def lookup(self, package: str, version: str) -> tuple[str, Version, list[Advisory]]:
        """Advisories affecting `package` at `version`, most severe first."""
        if not package or len(package) > 100:
            raise InvalidQuery("package must be a name of 1 to 100 characters")
        name = canonicalize_name(package)
        try:
            parsed = Version(version)
        except InvalidVersion as exc:
            raise InvalidQuery(f"version {version!r} is not a valid PEP 440 version") from exc
        matches = [a for a in self._by_package.get(name, []) if a.affected.contains(parsed, prereleases=True)]
        matches.sort(key=lambda a: (-SEVERITIES.index(a.severity), a.id))
        return name, parsed, matches


def _parse_entry(entry: object, where: str) -> Advisory:
    if not isinstance(entry, dict):
        raise AdvisoryDataError(f"{where}: expected an object")

    def text(field: str, optional: bool = False) -> str | None:
        value = entry.get(field)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise AdvisoryDataError(f"{where}.{field}: expected a non-empty string, got {value!r}")
        return value

    try:
        affected = SpecifierSet(text("affected") or "")
    except InvalidSpecifier as exc:
        raise AdvisoryDataError(f"{where}.affected: {exc}") from exc
    severity = text("severity") or ""
    if severity not in SEVERITIES:
        raise AdvisoryDataError(f"{where}.severity: expected one of {', '.join(SEVERITIES)}, got {severity!r}")
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise AdvisoryDataError(f"{where}.aliases: expected a list of strings")
    return Advisory(
        id=text("id") or "",
        aliases=tuple(aliases),
        package=text("package") or "",
        affected=affected,
        fixed=text("fixed", optional=True),
        severity=severity,
        summary=text("summary") or "",
        url=text("url") or "",
    )
