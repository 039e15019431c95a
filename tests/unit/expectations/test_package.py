import subprocess
import sys


def test_reading_the_configuration_does_not_import_great_expectations():
    code = "import sys, runcore.config; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_entry_points_are_exported():
    import expectations

    assert callable(expectations.validate_sources)
    assert "census" in expectations.suite_names()
