"""`bench/attack.py --quick` on two attacks: the report is written between its markers, with
a row per attack, each attack's own checks and the load average. No time is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.attack import BEGIN, END, write_report

ROOT = Path(__file__).resolve().parents[1]


def test_write_report_replaces_the_block_between_the_markers(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\nbefore\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    write_report("new", page)
    assert page.read_text() == f"# Title\n\nbefore\n\n{BEGIN}\nnew\n{END}\n\nafter\n"


def test_the_quick_mode_runs_two_attacks_and_writes_the_report(release, release_dir: Path,
                                                               tmp_path: Path):
    page = tmp_path / "reliability.md"
    page.write_text("# Reliability\n\nkept\n")
    done = subprocess.run(
        [sys.executable, "bench/attack.py", "--quick", "--seconds", "2", "--only", "tokens",
         "forged-host", "--release-dir", str(release_dir), "--report", str(page)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    text = page.read_text()
    assert text.startswith("# Reliability\n\nkept\n") and BEGIN in text and END in text, \
        done.stderr[-2000:]
    rows = [line for line in text.splitlines() if line.startswith("| 9 ")
            or line.startswith("| 11 ")]
    assert len(rows) == 2, text
    tokens, host = rows
    assert "401: " in tokens and "the token is nowhere in the server's log" in tokens
    assert "(FAILED)" not in tokens
    assert "400: " in host and "the forged host in no other answer" in host
    assert "(FAILED)" not in host
    assert "load average" in text
