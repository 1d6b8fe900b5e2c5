"""genrl_lib.numerics: the named numeric environments, their variables, and the record of this process's."""

import json
import os
import subprocess
import sys

import pytest

from genrl_lib.numerics import MACHINE_OWNED, NUMERIC_ENVS, describe, main, numeric_env_vars


def test_known_environments_and_their_variables():
    assert numeric_env_vars("native", {}) == ({}, [])
    assert numeric_env_vars("torch-scalar", {}) == ({"ATEN_CPU_CAPABILITY": "default"}, [])
    other, skipped = numeric_env_vars("other-cpu", {})
    assert other["ATEN_CPU_CAPABILITY"] == "default" and other["MKL_CBWR"] == "COMPATIBLE" and skipped == []
    assert other["OPENBLAS_CORETYPE"] == "Sandybridge"


def test_machine_owned_openblas_settings_are_left_alone():
    other, skipped = numeric_env_vars("other-cpu", {"OPENBLAS_CORETYPE": "Haswell"})
    assert "OPENBLAS_CORETYPE" not in other and skipped == ["OPENBLAS_CORETYPE"]
    assert other["ATEN_CPU_CAPABILITY"] == "default"          # the rest still applies
    assert numeric_env_vars("openblas-sandybridge", {"OPENBLAS_CORETYPE": "Zen"}) == ({}, ["OPENBLAS_CORETYPE"])
    assert set(MACHINE_OWNED) == {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}


@pytest.mark.parametrize("bad", ["bogus", "", None, 3])
def test_unknown_name_is_refused_with_the_known_ones(bad):
    with pytest.raises(ValueError, match="unknown numeric environment.*known: native, torch-scalar"):
        numeric_env_vars(bad)


def test_cli_prints_env_words_and_refuses_unknown(capsys):
    assert main(["torch-scalar"]) == 0
    out = capsys.readouterr().out.split()
    assert "ATEN_CPU_CAPABILITY=default" in out and "GENRL_NUMERIC_ENV=torch-scalar" in out
    assert main(["nope"]) == 2
    assert "known: native" in capsys.readouterr().err
    assert main([]) == 2


def test_describe_is_json_and_names_the_kernels():
    d = describe()
    json.dumps(d)
    assert d["torch_cpu_capability"] and d["versions"]["torch"] and d["cpu"]
    assert isinstance(d["blas"], list)


def test_torch_scalar_emulation_changes_torch_kernel_level():
    """The emulation is not a no-op: a child process under torch-scalar runs torch's scalar kernels."""
    variables, _ = numeric_env_vars("torch-scalar")
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **variables}, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "DEFAULT"


def test_emulation_in_effect_when_suite_runs_emulated():
    """Under `make test`'s emulated pass (GENRL_NUMERIC_ENV set) the variables really reach this process."""
    name = os.environ.get("GENRL_NUMERIC_ENV")
    if not name:
        pytest.skip("native run: GENRL_NUMERIC_ENV is not set")
    variables, _ = numeric_env_vars(name)
    for k, v in variables.items():
        assert os.environ.get(k) == v
    if "ATEN_CPU_CAPABILITY" in variables:
        assert describe()["torch_cpu_capability"] == "DEFAULT"


def test_every_environment_documented_in_module_docstring():
    import genrl_lib.numerics as m

    for name in NUMERIC_ENVS:
        assert f"``{name}``" in m.__doc__


def test_summary_names_the_machine_or_says_it_is_unknown():
    from genrl_lib.numerics import NOT_RECORDED, summary

    assert summary({"numeric_env": NOT_RECORDED}) == "a machine that was not recorded"
    assert summary({}) == "a machine that was not recorded"
    rec = {"cpu": "Intel Xeon", "torch_cpu_capability": "AVX512", "variables": {"OMP_NUM_THREADS": "1"},
           "blas": [{"internal_api": "openblas", "architecture": "SkylakeX"}]}
    assert summary({"numeric_env": rec}) == "an Intel Xeon (torch kernels AVX512; openblas SkylakeX)"
    rec["variables"]["ATEN_CPU_CAPABILITY"] = "default"
    assert "emulating ATEN_CPU_CAPABILITY=default" in summary({"numeric_env": rec})
    assert summary({"numeric_env": describe()}).startswith("a")
    with pytest.raises(TypeError, match="result must be a result dict"):
        summary([1])
