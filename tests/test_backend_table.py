"""The backend table in README.md is produced by running every configuration, not typed."""

from pathlib import Path

import pytest

from ezmsg_sigproc_units.testing import CPU_BACKENDS, catalog

ROOT = Path(__file__).resolve().parents[1]


def test_every_configuration_works_on_every_cpu_backend_and_readme_says_so():
    res = catalog.results()
    assert len(res) > 50
    failed = [(key, b.value) for key, row in res.items() for b, ok in row.items() if not ok]
    assert not failed, f"configurations failing their namespace/device/dtype check: {failed}"
    missing = [b.value for b in CPU_BACKENDS if b.unavailable_reason() is not None]
    if missing:
        pytest.skip(f"README table lists every CPU backend; not installed here: {missing}")
    table = catalog.markdown(res)
    for doc in ("README.md", "docs/backends.md"):
        text = (ROOT / doc).read_text()
        assert catalog.BEGIN in text and catalog.END in text, f"{doc} lacks the table markers"
        assert catalog.replace_between_markers(text, table) == text, (
            f"{doc}'s backend table is stale: run "
            f"`python -m ezmsg_sigproc_units.testing.catalog --write {doc}`"
        )
