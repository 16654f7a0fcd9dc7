"""Check that each stage imports only earlier stages and the shared modules.

Run ``python -m litthemes.devtools.layers``: it lists every import (at module level or
inside a function) that goes from a stage to a later stage, or from a shared module to
any stage, and exits 1 if there is one.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

# The stages in pipeline order; stages on one level do not import each other. `agree`
# (human codes and agreement statistics) comes before `code`, whose training reads them.
STAGE_LEVELS: dict[str, int] = {
    "ingest": 1,
    "segment": 2,
    "agree": 3,
    "claims": 3,
    "embed": 3,
    "code": 4,
    "topics": 5,
    "trends": 6,
    "figures": 7,
    "report": 8,
}
# Modules every stage may use; they import no stage.
SHARED = {"__init__", "cache", "captions", "cite", "codebook", "config", "shards", "speedups", "tables", "versions"}
# Modules above every stage (the command line, notebook helpers, developer tools).
TOP = {"cli", "__main__", "devtools", "explore"}
PACKAGE = "litthemes"


@dataclass(frozen=True)
class Violation:
    """One import against the layering."""

    file: str
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.importer} imports {self.imported}"


def _unit(module: str) -> str:
    """The stage or shared module a dotted module name belongs to ('' outside litthemes)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return ""
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """Every litthemes module ``tree`` imports, with the line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")[: -node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return [(line, name) for line, name in found if name.split(".")[0] == PACKAGE]


def _allowed(importer: str, imported: str) -> bool:
    if importer == imported or importer in TOP or imported in SHARED:
        return True
    if importer in SHARED:
        return False
    if importer not in STAGE_LEVELS or imported not in STAGE_LEVELS:
        return imported not in TOP
    return STAGE_LEVELS[imported] < STAGE_LEVELS[importer]


def check(source_root: Path) -> list[Violation]:
    """The layering violations among the modules under ``source_root`` (the folder holding litthemes)."""
    violations = []
    for path in sorted((source_root / PACKAGE).rglob("*.py")):
        relative = path.relative_to(source_root).with_suffix("")
        # A package's __init__ keeps its name here, so a relative import resolves against the package.
        module = ".".join(relative.parts)
        importer = _unit(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in _imports(tree, module):
            imported = _unit(name)
            if not _allowed(importer, imported):
                violations.append(Violation(str(relative) + ".py", line, importer, imported))
    return violations


def main() -> int:
    """Print the violations; 1 if there are any."""
    root = Path(__file__).resolve().parents[2]
    violations = check(root)
    for violation in violations:
        print(violation)
    print(
        f"{len(violations)} imports against the stage order "
        f"({' -> '.join(sorted(STAGE_LEVELS, key=STAGE_LEVELS.__getitem__))})",
        file=sys.stderr,
    )
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
