"""The segment, code and claims commands load spaCy without torch, and torch still works after."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from litthemes.startup import import_spacy
import_spacy()
assert "torch" not in sys.modules, "torch was imported with spaCy"
from litthemes.segment import lemmatize
assert lemmatize(["Badges were issued to learners."]) == ["badge be issue to learner"]
import torch
assert float(torch.ones(3).sum()) == 3.0
import thinc.compat
print("has_torch", thinc.compat.has_torch)
"""


def test_spacy_loads_without_torch_and_torch_imports_after() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "has_torch False" in done.stdout
