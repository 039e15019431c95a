from runcore.config import load_config
from runcore.runs import fingerprint, prepare_run_folder, publish_run, release_run, run_once


def _config(tmp_path, people=10):
    return load_config(overrides={"run": {"people": people, "out": str(tmp_path)}})


def test_fingerprint_ignores_key_order_but_not_values():
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_run_once_skips_a_stage_finished_with_the_same_inputs(tmp_path):
    calls = []

    def action():
        calls.append(1)
        return {"rows": len(calls)}

    first, resumed_first = run_once(tmp_path, "generate", "k1", action)
    second, resumed_second = run_once(tmp_path, "generate", "k1", action)
    third, _ = run_once(tmp_path, "generate", "k2", action)
    assert (first, resumed_first) == ({"rows": 1}, False)
    assert (second, resumed_second) == ({"rows": 1}, True)
    assert third == {"rows": 2} and len(calls) == 2


def test_run_is_published_only_when_complete_and_reopened_to_resume(tmp_path):
    folder = prepare_run_folder(_config(tmp_path))
    assert folder.work.exists() and not folder.published.exists()
    assert (folder.work / "config.yaml").exists()
    (folder.work / "result.txt").write_text("done")
    publish_run(folder)
    release_run(folder.work)
    assert (folder.published / "result.txt").read_text() == "done"
    assert not folder.work.exists()
    assert (tmp_path / "latest").resolve() == folder.published.resolve()
    reopened = prepare_run_folder(_config(tmp_path))
    release_run(reopened.work)
    assert (reopened.work / "result.txt").exists() and not reopened.published.exists()
