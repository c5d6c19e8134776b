"""The charm library's examples, run: README's charm and its unit tests, the module docstring.

README "Using it from a charm" shows a charm and, under "Unit tests of a charm that uses it",
the ops.testing tests (and one Harness case) a charm author would write for it. Both blocks are taken from README.md as
they are, laid out as a charm's src/charm.py and tests/unit/test_charm.py, and run with
unittest in a process of their own (the charm module is `charm`, as in a charm's repository),
with this repository's lib/ and the ops this suite runs with; so are the charm under "What an
event says" and its tests under "Giving an event values in a test". The library's module docstring,
which Charmhub renders as Markdown, is checked to be Markdown and to show the same charm.
"""

import ast
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import ops

REPOSITORY = Path(__file__).resolve().parents[2]
README = REPOSITORY / "README.md"
LIBRARY = REPOSITORY / "lib" / "charms" / "juju_systemd_notices" / "v0" / "juju_systemd_notices.py"
# The folder ops was imported from: tests/lib/run may have had it from a relative PYTHONPATH,
# which means nothing in the examples' own folder.
OPS_PATH = Path(ops.__file__).resolve().parents[1]

CHARM_HEADING = "### Using it from a charm"
TESTS_HEADING = "#### Unit tests of a charm that uses it"
# README's charm that reads what its service events say, and its tests (ops.testing, Harness).
VALUES_CHARM_HEADING = "#### What an event says"
VALUES_TESTS_HEADING = "##### Giving an event values in a test"
# The line README keeps to show what the import replaces; the docstring has no need of it.
ORIGINAL_IMPORT = "# from charms.operator_libs_linux.v0.juju_systemd_notices import ("


def python_blocks(markdown: str):
    """The contents of every ```python fenced block in `markdown`, in order."""
    return re.findall(r"^```python\n(.*?)^```$", markdown, re.MULTILINE | re.DOTALL)


def first_python_block_under(heading: str) -> str:
    """The first ```python block after the line `heading` in README.md."""
    text = README.read_text()
    lines = text.splitlines(keepends=True)
    starts = [index for index, line in enumerate(lines) if line.rstrip("\n") == heading]
    if len(starts) != 1:
        raise AssertionError(f"expected one line {heading!r} in {README}, found {len(starts)}")
    blocks = python_blocks("".join(lines[starts[0] + 1:]))
    if not blocks:
        raise AssertionError(
            f"expected a ```python block under {heading!r} in {README}, found none")
    return blocks[0]


class ReadmeExamplesTest(unittest.TestCase):
    def test_the_readme_unit_tests_pass_against_the_readme_charm(self):
        charm = first_python_block_under(CHARM_HEADING)
        tests = first_python_block_under(TESTS_HEADING)
        # What the section promises to show: the event emitted, the patch at our module path.
        self.assertIn("manager.charm.on.service_slurmd_started.emit()", tests)
        self.assertIn('"charms.juju_systemd_notices.v0.juju_systemd_notices.SystemdNotices'
                      '.subscribe"', tests)
        self.assertIn("testing.Context(", tests)
        self.assertIn("testing.Harness(", tests)
        self.run_charm_tests(charm, tests, 5)

    def test_the_readme_event_values_tests_pass_against_its_charm(self):
        charm = first_python_block_under(VALUES_CHARM_HEADING)
        tests = first_python_block_under(VALUES_TESTS_HEADING)
        # What the section promises to show: the values given to emit(), both harnesses.
        self.assertIn('.emit(state="failed", result="core-dump",', tests)
        self.assertIn("testing.Context(", tests)
        self.assertIn("testing.Harness(", tests)
        self.assertIn("testing.DeferredEvent(", tests)
        self.assertIn("event.describe()", charm)
        self.run_charm_tests(charm, tests, 6)

    def run_charm_tests(self, charm, tests, count):
        """Runs `tests` as a charm's tests/unit/test_charm.py against `charm` as its
        src/charm.py, in a process of its own; asserts that `count` tests ran and passed."""
        with tempfile.TemporaryDirectory(prefix="jsn-readme-") as top:
            top = Path(top)
            (top / "metadata.yaml").write_text("name: app\nsummary: README's charm\n"
                                               "description: README's charm\n")
            (top / "src").mkdir()
            (top / "src" / "charm.py").write_text(charm)
            (top / "tests" / "unit").mkdir(parents=True)
            (top / "tests" / "unit" / "test_charm.py").write_text(tests)
            environment = dict(os.environ)
            environment["PYTHONPATH"] = os.pathsep.join(
                [str(top / "src"), str(REPOSITORY / "lib"), str(OPS_PATH)])
            # No juju-systemd-notices anywhere: the tests must not need one.
            environment["PATH"] = "/usr/bin:/bin"
            result = subprocess.run(
                [sys.executable, "-m", "unittest", "-v", "test_charm"],
                cwd=str(top / "tests" / "unit"), env=environment, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertRegex(result.stdout, rf"Ran {count} tests in .*\n\nOK", result.stdout)

    def test_the_docstring_shows_the_readme_charm(self):
        readme_charm = first_python_block_under(CHARM_HEADING)
        readme_charm = "".join(line for line in readme_charm.splitlines(keepends=True)
                               if line.rstrip("\n") != ORIGINAL_IMPORT)
        docstring = ast.get_docstring(ast.parse(LIBRARY.read_text()))
        self.assertEqual(python_blocks(docstring + "\n")[0], readme_charm)


class DocstringTest(unittest.TestCase):
    """Charmhub renders the module docstring as Markdown."""

    def setUp(self):
        self.docstring = ast.get_docstring(ast.parse(LIBRARY.read_text()))

    def test_the_docstring_is_markdown_not_restructured_text(self):
        for number, line in enumerate(self.docstring.splitlines(), 1):
            with self.subTest(line=number):
                self.assertFalse(line.rstrip().endswith("::"),
                                 f"expected a fenced ```python block, found a reST '::' at: {line}")
                self.assertNotIn("``", line.replace("```", ""),
                                 f"expected `code` (Markdown), found ``code`` (reST) at: {line}")
        self.assertIn("\n## What it does on upgrade-charm and remove\n", self.docstring)

    def test_every_python_block_in_the_docstring_parses(self):
        blocks = python_blocks(self.docstring + "\n")
        self.assertGreaterEqual(len(blocks), 3)
        for block in blocks:
            with self.subTest(block=block.splitlines()[0]):
                ast.parse(block)
        fences = [line for line in self.docstring.splitlines() if line.startswith("```")]
        self.assertEqual(len(fences), 2 * len(blocks),
                         f"expected each fence to open a ```python block or close one, found {fences}")


if __name__ == "__main__":
    unittest.main()
