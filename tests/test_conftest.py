"""tests/conftest.py's closing line for the tests that GNU Go's absence skipped."""

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")


@pytest.fixture
def pytester(pytester, monkeypatch):
    """A pytester whose runs load no installed plugins (hypothesis's adds ~10 s to each run)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest(CONFTEST.read_text())
    return pytester


def test_the_summary_names_the_tests_skipped_for_want_of_gnugo_and_how_to_install_it(pytester):
    pytester.makepyfile(
        test_go="""
        import pytest

        pytestmark = pytest.mark.skipif(True, reason="needs GNU Go at /usr/games/gnugo")

        def test_match():
            pass

        @pytest.mark.parametrize("size", [7, 9])
        def test_score(size):
            pass
        """,
        test_other="""
        import pytest

        @pytest.mark.skipif(True, reason="GNU Go is not installed")
        def test_opponent():
            pass

        @pytest.mark.skip(reason="something else")
        def test_unrelated():
            pass
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-ra")
    result.assert_outcomes(skipped=5)
    lines = [line for line in result.outlines if line.startswith("GNU Go is not installed:")]
    # after the -ra list of skips, just above the closing counts
    assert result.outlines.index(lines[0]) == len(result.outlines) - 2
    assert lines == [
        "GNU Go is not installed: 4 tests skipped (test_go.py::test_match, "
        "test_go.py::test_score x2, test_other.py::test_opponent); "
        "install it with `sudo apt-get install gnugo` (.ci/run installs it)"
    ]


def test_no_line_when_nothing_was_skipped_for_gnugo(pytester):
    pytester.makepyfile(
        "import pytest\n\n@pytest.mark.skip(reason='other')\ndef test_a():\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    assert "GNU Go" not in result.stdout.str()
