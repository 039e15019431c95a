"""Stage markers record their outputs; a damaged output makes its stage, and the stages after
it, run again (#20). Tiny hand-made stages, so every expectation is derived by hand."""

from __future__ import annotations

import errno
import hashlib
import json

import polars as pl
import pytest

from runcore.runs import (
    MARKER_DIR,
    OutputStorageError,
    estimated_run_bytes,
    run_once,
    storage_guard,
)


def _table_stage(work, rows):
    def action():
        (work / "sources").mkdir(exist_ok=True)
        pl.DataFrame({"id": list(range(rows))}).write_parquet(work / "sources" / "people.parquet")
        (work / "sources" / "people.csv").write_text(
            "id\n" + "".join(f"{i}\n" for i in range(rows))
        )
        return {"rows": rows}

    return action


def _note_stage(work, calls, name):
    def action():
        calls.append(name)
        (work / f"{name}.txt").write_text(f"{name} output")
        return {"stage": name}

    return action


def _pipeline(work, calls, log=None):
    """generate (two tables), link and report, as ``run_once`` calls them in the flow."""
    resumed = {}
    for stage, action in (
        ("generate", _table_stage(work, 5)),
        ("link", _note_stage(work, calls, "link")),
        ("report", _note_stage(work, calls, "report")),
    ):
        if stage == "generate":
            action = _counted(action, calls, "generate")
        _, resumed[stage] = run_once(work, stage, f"key-{stage}", action, log=log)
    return resumed


def _counted(action, calls, name):
    def wrapped():
        calls.append(name)
        return action()

    return wrapped


def test_marker_records_each_output_with_size_digest_and_rows(tmp_path):
    _pipeline(tmp_path, [])
    marker = json.loads((tmp_path / MARKER_DIR / "generate.json").read_text())
    outputs = {o["path"]: o for o in marker["outputs"]}
    assert sorted(outputs) == ["sources/people.csv", "sources/people.parquet"]
    csv = tmp_path / "sources" / "people.csv"
    assert outputs["sources/people.csv"]["rows"] == 5  # a header and five lines
    assert outputs["sources/people.parquet"]["rows"] == 5
    assert outputs["sources/people.csv"]["bytes"] == len("id\n0\n1\n2\n3\n4\n")
    assert outputs["sources/people.csv"]["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    link = json.loads((tmp_path / MARKER_DIR / "link.json").read_text())
    assert [o["path"] for o in link["outputs"]] == ["link.txt"]  # not generate's files


def test_intact_outputs_resume_every_stage(tmp_path):
    calls = []
    _pipeline(tmp_path, calls)
    resumed = _pipeline(tmp_path, calls)
    assert resumed == {"generate": True, "link": True, "report": True}
    assert calls == ["generate", "link", "report"]


def _damage(path, how):
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:  # replace with other bytes of the same length
        data = path.read_bytes()
        path.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])


EXPECTED_REASON = {
    "delete": "is missing",
    "truncate": "changed size",
    "replace": "changed content",
}


@pytest.mark.parametrize("how", ["delete", "truncate", "replace"])
@pytest.mark.parametrize(
    ("damaged", "stage", "redone"),
    [
        ("sources/people.parquet", "generate", ["generate", "link", "report"]),
        ("sources/people.csv", "generate", ["generate", "link", "report"]),
        ("link.txt", "link", ["link", "report"]),
        ("report.txt", "report", ["report"]),
    ],
)
def test_damaged_output_redoes_its_stage_and_the_stages_after(
    tmp_path, how, damaged, stage, redone
):
    calls, messages = [], []
    _pipeline(tmp_path, calls)
    _damage(tmp_path / damaged, how)
    calls.clear()
    resumed = _pipeline(tmp_path, calls, log=messages.append)
    assert calls == redone
    assert [s for s, was_resumed in resumed.items() if not was_resumed] == redone
    assert len(messages) == 1, messages  # downstream markers were forgotten, not blamed
    assert messages[0].startswith(f"Stage {stage} is redone")
    assert damaged in messages[0] and EXPECTED_REASON[how] in messages[0]
    # Redone, the outputs are whole again and a further run resumes everything.
    calls.clear()
    assert all(_pipeline(tmp_path, calls).values()) and calls == []


def test_file_rewritten_by_a_later_stage_belongs_to_that_stage(tmp_path):
    calls = []

    def overwrite():
        (tmp_path / "link.txt").write_text("rewritten by report")
        return {}

    run_once(tmp_path, "link", "k", _note_stage(tmp_path, calls, "link"))
    run_once(tmp_path, "report", "k", overwrite)
    _, link_resumed = run_once(tmp_path, "link", "k", _note_stage(tmp_path, calls, "link"))
    assert link_resumed and calls == ["link"]


def test_marker_without_outputs_is_not_trusted(tmp_path):
    (tmp_path / MARKER_DIR).mkdir()
    (tmp_path / MARKER_DIR / "link.json").write_text(json.dumps({"key": "k", "summary": {}}))
    messages = []
    _, resumed = run_once(tmp_path, "link", "k", lambda: {"x": 1}, log=messages.append)
    assert not resumed and "older run folder" in messages[0]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (OSError(errno.EACCES, "Permission denied"), "permission to write is denied"),
        # DuckDB reports a full disk as its own exception, with the C library's text.
        (RuntimeError('IO Error: Could not write file "x": No space left on device'), "no space"),
    ],
)
def test_storage_failure_names_the_folder_and_the_space_needed(tmp_path, error, expected):
    with pytest.raises(OutputStorageError) as raised:
        with storage_guard(tmp_path, 2000):
            raise error
    message = str(raised.value)
    assert str(tmp_path) in message and expected in message
    assert f"about {estimated_run_bytes(2000) / 1e6:,.0f} MB" in message
    assert "MB free now" in message and "resumes" in message
    assert not isinstance(raised.value, OSError)  # so transient-I/O retries do not repeat it


def test_other_errors_pass_through_the_storage_guard(tmp_path):
    with pytest.raises(ValueError, match="a bug"):
        with storage_guard(tmp_path, 10):
            raise ValueError("a bug")
    with pytest.raises(FileNotFoundError):
        with storage_guard(tmp_path, 10):
            (tmp_path / "absent").read_text()


def test_storage_failure_inside_a_stage_leaves_no_marker(tmp_path):
    def full_disk():
        (tmp_path / "half.parquet").write_bytes(b"PAR1")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputStorageError):
        with storage_guard(tmp_path, 10):
            run_once(tmp_path, "link", "k", full_disk)
    assert not (tmp_path / MARKER_DIR / "link.json").exists()
    _, resumed = run_once(tmp_path, "link", "k", lambda: {"ok": True})
    assert not resumed
