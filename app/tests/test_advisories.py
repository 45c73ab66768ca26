import json

import pytest

from advisory_api.advisories import AdvisoryDataError, AdvisoryIndex, InvalidQuery


@pytest.fixture(scope="module")
def index() -> AdvisoryIndex:
    return AdvisoryIndex.bundled()


def test_bundled_data_loads(index):
    assert len(index) == 6


def test_old_pyyaml_is_affected_by_both_critical_advisories(index):
    name, version, matches = index.lookup("PyYAML", "5.3")
    assert name == "pyyaml" and str(version) == "5.3"
    assert [a.id for a in matches] == ["CVE-2020-14343", "CVE-2020-1747"]
    assert {a.severity for a in matches} == {"CRITICAL"}


def test_version_at_the_fix_is_not_affected(index):
    assert index.lookup("pyyaml", "5.3.1")[2][0].id == "CVE-2020-14343"
    assert index.lookup("pyyaml", "5.4")[2] == []


def test_names_are_normalised_per_pep_503(index):
    assert index.lookup("Py_YAML", "5.1")[0] == "py-yaml"  # a different project: no match
    assert [a.id for a in index.lookup("REQUESTS", "2.19.1")[2]] == ["CVE-2018-18074", "CVE-2023-32681"]


def test_results_are_ordered_most_severe_first(index):
    severities = [a.severity for a in index.lookup("requests", "2.19.1")[2]]
    assert severities == ["HIGH", "MEDIUM"]


def test_prereleases_inside_the_range_are_affected(index):
    assert [a.id for a in index.lookup("jinja2", "3.1.0rc1")[2]] == ["CVE-2024-22195"]


def test_unknown_package_has_no_advisories(index):
    assert index.lookup("left-pad", "1.0")[2] == []


@pytest.mark.parametrize("version", ["latest", "1..2", ""])
def test_invalid_version_is_a_query_error(index, version):
    with pytest.raises(InvalidQuery):
        index.lookup("requests", version)


def test_malformed_data_names_the_entry_and_field():
    document = {"advisories": [{"id": "X", "package": "p", "affected": "<1", "severity": "SEVERE", "summary": "s", "url": "u"}]}
    with pytest.raises(AdvisoryDataError, match=r"data.json: advisories\[0\].severity: expected one of"):
        AdvisoryIndex.from_json(json.dumps(document), source="data.json")


def test_bad_specifier_is_rejected():
    document = {"advisories": [{"id": "X", "package": "p", "affected": "~~1", "severity": "LOW", "summary": "s", "url": "u"}]}
    with pytest.raises(AdvisoryDataError, match=r"advisories\[0\].affected"):
        AdvisoryIndex.from_json(json.dumps(document))


def test_non_document_is_rejected():
    with pytest.raises(AdvisoryDataError, match="not an advisory document"):
        AdvisoryIndex.from_json("[]")
