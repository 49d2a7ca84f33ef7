"""`evalharness run --backend served` against a stub server that fails on demand: per-sample errors are recorded
and retried on --resume, a dead server stops the run in one line, nothing finished is lost, and the summary
signs the server URL, model and mode but never the API key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalharness.runner import PREDICTIONS, SUMMARY, read_predictions

from served_stub import Reply, StubServer, chat_chunks

REPO = Path(__file__).resolve().parents[1]
SECRET = "sk-eval-secret-42"


def evalharness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evalharness", "run", "--quiet", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_failed_samples_are_recorded_and_the_resumed_run_loses_nothing(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    with StubServer() as stub:
        # every third request fails for good (400 is not retried): those samples are recorded as failed
        stub.on(
            "/chat/completions",
            Reply(events=chat_chunks("好的")),
            Reply(events=chat_chunks("好的")),
            Reply(status=400),
            cycle=True,
        )
        first = evalharness(
            "--backend",
            "served",
            "--base-url",
            stub.url,
            "--data",
            str(small_data),
            "--out",
            str(out),
            "--concurrency",
            "3",
            "--retries",
            "0",
        )
        assert first.returncode == 0, first.stderr
        records = read_predictions(out / PREDICTIONS)
        failed = {r["id"] for r in records if "error" in r}
        assert len(records) == 24 and failed and all("HTTP 400" in r["error"] for r in records if "error" in r)
        kept = {r["id"]: r for r in records if "error" not in r}

        stub.on("/chat/completions", Reply(events=chat_chunks("好的")))
        resumed = evalharness(
            "--backend", "served", "--base-url", stub.url, "--data", str(small_data), "--out", str(out), "--resume"
        )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    assert summary["run"]["predicted_this_run"] == len(failed) and summary["metrics"]["failed"] == 0
    after = {r["id"]: r for r in read_predictions(out / PREDICTIONS)}
    assert all(after[i]["predicted"] == r["predicted"] for i, r in kept.items())


def test_a_server_that_is_down_stops_the_run_in_one_line(small_data: Path, tmp_path: Path):
    result = evalharness(
        "--backend",
        "served",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
        "--data",
        str(small_data),
        "--out",
        str(tmp_path / "run"),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: cannot reach the server at http://127.0.0.1:9/v1 ([Errno 111] Connection refused); is it running? (--base-url)"
    ]


def test_a_server_that_dies_mid_run_stops_it_and_resume_finishes(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    with StubServer() as stub:
        stub.on(
            "/chat/completions", *[Reply(events=chat_chunks("好的"))] * 5, Reply(status=503, body={"detail": "gone"})
        )
        first = evalharness(
            "--backend",
            "served",
            "--base-url",
            stub.url,
            "--data",
            str(small_data),
            "--out",
            str(out),
            "--retries",
            "1",
            "--limit",
            "12",
        )
        assert first.returncode == 0 and "failed on 7 sample(s)" in first.stderr
        stub.on("/chat/completions", Reply(events=chat_chunks("好的")))
        resumed = evalharness(
            "--backend",
            "served",
            "--base-url",
            stub.url,
            "--data",
            str(small_data),
            "--out",
            str(out),
            "--resume",
            "--limit",
            "12",
        )
    assert resumed.returncode == 0, resumed.stderr
    records = read_predictions(out / PREDICTIONS)
    assert [r["id"] for r in records] == list(range(12)) and not any("error" in r for r in records)


def test_the_summary_signs_url_model_and_mode_and_no_file_holds_the_key(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    with StubServer(models=("qwen2-7b",)) as stub:
        stub.on("/chat/completions", Reply(events=chat_chunks("好的")))
        result = evalharness(
            "--backend",
            "served",
            "--base-url",
            stub.url,
            "--data",
            str(small_data),
            "--out",
            str(out),
            "--limit",
            "4",
            env={"OPENAI_API_KEY": SECRET},
        )
        assert result.returncode == 0, result.stderr
        assert all(r.headers.get("Authorization") == f"Bearer {SECRET}" for r in stub.requests)
    backend = json.loads((out / SUMMARY).read_text(encoding="utf-8"))["signature"]["backend"]
    assert (backend["name"], backend["mode"], backend["model"]) == ("served", "chat", "qwen2-7b")
    assert backend["base_url"] == stub.url and backend["api_key_env"] == "OPENAI_API_KEY"
    for path in out.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path
    assert SECRET not in result.stdout + result.stderr


def test_resume_refuses_another_server_or_model(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    with StubServer(models=("a",)) as stub:
        stub.on("/chat/completions", Reply(events=chat_chunks("好的")))
        assert (
            evalharness(
                "--backend",
                "served",
                "--base-url",
                stub.url,
                "--data",
                str(small_data),
                "--out",
                str(out),
                "--limit",
                "2",
            ).returncode
            == 0
        )
    with StubServer(models=("b",)) as other:
        result = evalharness(
            "--backend",
            "served",
            "--base-url",
            other.url,
            "--data",
            str(small_data),
            "--out",
            str(out),
            "--limit",
            "2",
            "--resume",
        )
    assert result.returncode == 1 and result.stderr.startswith(f"error: cannot resume {out}: its backend_signature")


@pytest.mark.parametrize("flag", [["--device", "cpu"], ["--served-mode", "template", "--gguf-file", "x.gguf"]])
def test_options_a_mode_does_not_take_are_one_line(small_data: Path, tmp_path: Path, flag: list[str]):
    with StubServer() as stub:
        result = evalharness(
            "--backend",
            "served",
            "--base-url",
            stub.url,
            *flag,
            "--data",
            str(small_data),
            "--out",
            str(tmp_path / "r"),
        )
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_run_through_a_server_prints_samples_and_tokens_per_second(small_data: Path, tmp_path: Path):
    from click.testing import CliRunner

    from evalharness.cli import main

    with StubServer() as stub:
        stub.on(
            "/chat/completions",
            Reply(events=[*chat_chunks("好的"), {"choices": [], "usage": {"completion_tokens": 3}}]),
        )
        args = ["run", "--backend", "served", "--base-url", stub.url, "--data", str(small_data), "--limit", "4"]
        result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "run"), "--concurrency", "2"])
    assert result.exit_code == 0, result.output
    assert "12 tokens generated" in result.output and "tokens/s), concurrency 2" in result.output
