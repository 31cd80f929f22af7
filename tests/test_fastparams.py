"""respctl.fastparams: its coercion gives typer's results on every parameter of every command, and
where typer's internals are not as it expects it installs nothing, and every command still works."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum

import pytest
import typer
from conftest import clean_env, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._click import Context
from typer._coercion import build_runtime_param

from respctl import cli, fastparams

#: Values a user may type for any option; each is tried on every parameter.
WORDS = [
    *("", " ", "-", "+", "x", "é", "\x1b[31m", "\udcff", "None", "null"),
    *("0", "1", "-1", "+1", "-0", "007", "8", "1_000", "1__0", "_1", " 5", "5 ", "\t5\n", "٥", "５", "−5"),
    *("5.0", "5.5", "5.", ".5", "00.5", "-0.0", "0.001", "0.0009", "1e-3", "1e3", "1E3", "0x10", "0.1e1"),
    *("nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e999", "86400", "86400.0", "86400.00001", "1" * 25),
    *("true", "false", "yes", "no", "on", "off", "True"),
    *("openai", "OPENAI", "Openai", "compatible", "high", "HIGH", "xhigh", "auto", "current_turn", "always"),
    *("never", "developer", "system", "text", "json", "JSON", "markdown", "github", "ﬀ", "İ"),
]


def every_parameter():
    command = typer.main.get_command(cli.app)
    for sub in [command, *command.commands.values()]:
        for param in sub.params:
            yield sub, param


PARAMETERS = list(every_parameter())
IDS = [f"{sub.name}:{param.name}" for sub, param in PARAMETERS]

#: The app's command as main() builds it, with fastparams installed.
INSTALLED = typer.main.get_command(cli.app)
assert fastparams.install(INSTALLED) is True


def installed(sub, param):
    """The same parameter in the command with fastparams installed."""
    target = INSTALLED if sub.name == INSTALLED.name else INSTALLED.commands[sub.name]
    return next(p for p in target.params if p.name == param.name)


def outcome(coercer, sub, param, value):
    """What a coercer makes of `value`: ("ok", the value, its type) or ("refused",)."""
    try:
        got = coercer.coerce(value, param=param, ctx=Context(sub))
    except typer.BadParameter:
        return ("refused",)
    return ("ok", repr(got), type(got))


#: typer's own coercer of each parameter (its pydantic adapter is built once).
TYPERS = {id(param): build_runtime_param(param.type_descriptor) for _sub, param in PARAMETERS}


def ours_and_typers(sub, param, value):
    ours = installed(sub, param).get_runtime_param()
    return outcome(ours, sub, param, value), outcome(TYPERS[id(param)], sub, param, value)


def values_for(param) -> list:
    annotation = param.type_descriptor.annotation
    members = list(annotation) if isinstance(annotation, type) and issubclass(annotation, Enum) else []
    if param.multiple or param.nargs == -1:
        return [[w] for w in WORDS] + [WORDS[:3], (), ["a", "b"], ("a",)]
    return [*WORDS, *(m.value for m in members), *members, param.default, True, False, 0, 1, 5.0, 60.0, 8]


@pytest.mark.parametrize(("sub", "param"), PARAMETERS, ids=IDS)
def test_every_parameter_coerces_as_typer_does(sub, param):
    """Same values (and types) taken, same values refused: good and bad, `nan`, `5.0`, `1e3`..."""
    assert type(installed(sub, param).get_runtime_param()).__module__ == fastparams.__name__
    for value in values_for(param):
        ours, typers = ours_and_typers(sub, param, value)
        assert ours == typers, (value, ours, typers)


@pytest.mark.parametrize(
    ("sub", "param"),
    [p for p in PARAMETERS if not p[1].multiple],
    ids=[i for i, p in zip(IDS, PARAMETERS, strict=True) if not p[1].multiple],
)
@settings(max_examples=examples(300))
@given(value=st.one_of(st.text(max_size=12), st.from_regex(r"\A[-+ ]?[0-9_.eE]{0,10}[ ]?\Z")))
def test_any_text_coerces_as_typer_does(sub, param, value):
    ours, typers = ours_and_typers(sub, param, value)
    assert ours == typers, (value, ours, typers)


def test_what_typer_refuses_is_said_as_click_says_it(cli):
    r = cli("say", "c.jsonl", "hi", "--timeout", "nan")
    assert (r.code, r.err_lines) == (
        2,
        ["respctl: error: Invalid value for '--timeout': 'nan' is not a number. (see 'respctl say --help')"],
    )
    r = cli("say", "c.jsonl", "hi", "--max-output-tokens", "5.5")
    assert r.code == 2 and r.err.endswith("'5.5' is not an integer. (see 'respctl say --help')\n")


def run_respctl(cwd, *args, prelude=""):
    """A fresh interpreter: `prelude` changes typer before respctl is run; stderr ends saying whether
    pydantic was loaded (typer's own coercion loads it, fastparams does not)."""
    code = (
        f"import atexit, sys\n{prelude}\nfrom respctl.cli import main\nsys.argv = ['respctl', *sys.argv[1:]]\n"
        "atexit.register(lambda: sys.stderr.write('pydantic loaded: %s\\n' % ('pydantic' in sys.modules)))\nmain()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


#: typer as a later version might be: a field renamed, the coercer cached elsewhere, a class moved.
CHANGED_TYPER = {
    "typer as it is": "",
    "RuntimeParam moved": "import typer._coercion as c\ndel c.RuntimeParam",
    "RuntimeParam gained a field": (
        "import dataclasses, typer._coercion as c\n"
        "c.RuntimeParam = dataclasses.make_dataclass('RP', [('extra', int, 0)], bases=(c.RuntimeParam,), frozen=True)"
    ),
    "the coercer cached elsewhere": (
        "import typer.core as c\n"
        "for cls in (c.TyperOption, c.TyperArgument):\n"
        "    init = cls.__init__\n"
        "    def renamed(self, *a, _init=init, **k):\n"
        "        _init(self, *a, **k)\n"
        "        del self._runtime_param\n"
        "        self._coercer = None\n"
        "    cls.__init__ = renamed\n"
        "def get(self):\n"
        "    if self._coercer is None:\n"
        "        self._coercer = c.build_runtime_param(self.type_descriptor)\n"
        "    return self._coercer\n"
        "c._TyperParameter.get_runtime_param = get"
    ),
    "the coercer read from elsewhere": (
        "import typer.core as c\n"
        "c._TyperParameter.get_runtime_param = lambda self: c.build_runtime_param(self.type_descriptor)"
    ),
}


@pytest.mark.parametrize("change", list(CHANGED_TYPER), ids=list(CHANGED_TYPER))
def test_a_typer_not_as_expected_leaves_typers_coercion_and_every_command_works(tmp_path, change):
    prelude, loaded = CHANGED_TYPER[change], f"pydantic loaded: {change != 'typer as it is'}"
    (tmp_path / "c.jsonl").write_text('{"type":"message","role":"user","content":"hi"}\n')
    r = run_respctl(tmp_path, "say", "--help", prelude=prelude)
    assert r.returncode == 0 and "--max-output-tokens N" in r.stdout, r.stderr[-800:]
    assert r.stderr.splitlines() == [loaded]
    dry_run = ("say", "c.jsonl", "-m", "gpt-5-mini", "--dry-run", "--as-is", "--max-output-tokens")
    r = run_respctl(tmp_path, *dry_run, "5.0", prelude=prelude)  # typer's own coercer takes 5.0 as 5
    assert r.returncode == 0 and '"max_output_tokens":5,' in r.stdout, r.stderr[-800:]


class _Odd:
    """A parameter of a typer that renamed a field of its type descriptor (`file_annotation`)."""

    name = "odd"
    _runtime_param = None

    def __init__(self, like):
        descriptor = like.type_descriptor
        self.type_descriptor = type("Renamed", (), {"annotation": str, "parameter_info": descriptor.parameter_info})()


def test_install_never_raises_and_changes_nothing_when_one_parameter_is_not_as_expected():
    command = typer.main.get_command(cli.app)
    say = command.commands["say"]
    say.params.append(_Odd(say.params[0]))
    assert fastparams.install(command) is False
    assert all(getattr(p, "_runtime_param", None) is None for sub in command.commands.values() for p in sub.params)
