"""The tutorials (docs/tutorials/*.md) run as written: every runnable ```python block of each
page, in order, in one namespace (tests/helpers/doc_code.py). Offline pages run in process;
pages whose code runs an ezmsg graph do so on a private graph server under a watchdog."""

from __future__ import annotations

import traceback

import pytest

from tests.helpers.doc_code import python_blocks, run_blocks

PAGE = """# A page

```python
a = 1
```

```python skip
raise SystemExit("a skipped block must not run")
```

~~~py
b = a + 1
~~~

```text
not python
```

  ```python
  c = b * 10
  raise ValueError(c)
  ```
"""


def test_doc_code_runs_blocks_in_order_in_one_namespace(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    blocks = python_blocks(page)
    assert [(b.number, b.line, b.runnable) for b in blocks] == [
        (1, 4, True), (2, 8, False), (3, 12, True), (4, 20, True)]
    ns = run_blocks(blocks[:3])
    assert (ns["a"], ns["b"]) == (1, 2)
    with pytest.raises(ValueError, match="20") as info:
        run_blocks(blocks[3:], namespace=ns)
    # the traceback names the page and the block, at the page's line, with its source
    text = "".join(traceback.format_exception(info.value))
    assert f'File "{page} [block 4]", line 21' in text
    assert "raise ValueError(c)" in text
