"""The project carries its own description of the behaviour it implements: every section
a rule cites exists in docs/behaviour.md, and no user-facing text points outside the
repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conformance.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "behaviour.md"


def test_every_section_a_rule_cites_is_a_heading_of_the_behaviour_page():
    headings = set(re.findall(r"^#{2,3} ([0-9]+(?:\.[0-9]+)?)[. ]", DOC.read_text(encoding="utf-8"), re.MULTILINE))
    cited = set()
    for rule in RULES.values():
        for part in rule.section.replace(" ", "").split(","):
            if "-" in part:
                low, high = part.split("-")
                cited |= {str(n) for n in range(int(low), int(high) + 1)}
            else:
                cited.add(part)
    assert cited <= headings, sorted(cited - headings)


def test_no_user_facing_text_points_outside_the_repository():
    texts = [ROOT / "README.md", DOC, *sorted((ROOT / "conformance").rglob("*.py")), *sorted((ROOT / "mock_server").rglob("*.py"))]
    for path in texts:
        assert "../shared" not in path.read_text(encoding="utf-8"), path
    bin_dir = Path(sys.executable).parent
    for command in (["segmentation-conformance", "--help"], ["segmentation-mock", "--help"]):
        help_text = subprocess.run([str(bin_dir / command[0]), *command[1:]], capture_output=True, text=True, timeout=60).stdout
        assert "docs/behaviour.md" in help_text and "../shared" not in help_text, help_text
