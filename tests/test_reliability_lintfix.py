"""`lint --fix` under pressure: another program appending meanwhile, values a rewrite would change
(duplicate keys, integers past 64 bits), and file names that carry terminal control characters."""

from __future__ import annotations

import re

import pytest
from test_reliability_support import developer, line, user

import respctl.lint as lint
import respctl.lint.fix as fix


def test_an_append_during_the_fix_is_never_dropped(tmp_path, monkeypatch, capsys):
    """Another program (no lock) appends while --fix works: the fix must not replace the file."""
    path = tmp_path / "c.jsonl"
    path.write_bytes(line(developer("Be brief.")).replace(b"\n", b"\r\n") + line(user("hi")))
    appended = line(user("appended meanwhile"))
    real = fix.check_file

    def check_then_someone_appends(*args, **kwargs):
        result = real(*args, **kwargs)
        if appended not in path.read_bytes():
            with open(path, "ab") as f:
                f.write(appended)
        return result

    monkeypatch.setattr(fix, "check_file", check_then_someone_appends)
    code = lint.run([str(path)], fix=True)
    err = capsys.readouterr().err
    assert path.read_bytes().endswith(appended)
    assert code == 2 and "changed by another program" in err, err


DUPLICATE = b'{"type":"message","role":"user","role":"assistant","content":"hi"}\n'
BIG = b'{"type":"function_call","call_id":"c1","name":"f","arguments":"{}","n":18446744073709551616}\n'


@pytest.mark.parametrize("bad, code", [(DUPLICATE, "RSP009"), (BIG, "RSP010")], ids=["duplicate-key", "big-int"])
def test_lint_flags_values_a_rewrite_would_change_and_fix_keeps_them(cli, tmp_path, bad, code):
    path = tmp_path / "c.jsonl"
    data = line(developer("Be brief.")).replace(b"\n", b"\r\n") + bad  # a CRLF: something --fix would rewrite
    path.write_bytes(data)
    r = cli("lint", path)
    assert code in r.out, r.out
    r = cli("lint", "--fix", path)
    assert path.read_bytes() == data, "--fix changed a value"
    assert "not fixed" in r.out + r.err


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_fix_notes_never_carry_control_characters(cli, tmp_path, output_format):
    path = tmp_path / "evil\x1b]0;pwned\x07\x1b[2J.jsonl"
    path.write_bytes(line(developer("Be brief.")).replace(b"\n", b"\r\n"))
    r = cli("lint", "--fix", "--format", output_format, path)
    assert "fixed" in r.out + r.err  # the note was printed
    assert "\x1b" not in r.out + r.err and "\x07" not in r.out + r.err


def test_an_interrupt_after_a_file_was_fixed_says_which_and_how(tmp_path, monkeypatch):
    """Ctrl-C while --fix works on the second of three files: the first is fixed, its notes are
    printed, and the error line names it instead of claiming nothing was written."""
    from test_reliability_hostile import run_main

    crlf = line(developer("Be brief.")).replace(b"\n", b"\r\n") + line(user("hi"))
    paths = [tmp_path / f"fx{n}.jsonl" for n in (1, 2, 3)]
    for path in paths:
        path.write_bytes(crlf)
    real = fix.check_file

    def interrupted_on_the_second(path, *args, **kwargs):
        if str(path) == str(paths[1]):
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(fix, "check_file", interrupted_on_the_second)
    code, out, err = run_main(["lint", "--fix", *map(str, paths)], tmp_path)
    assert paths[0].read_bytes() == crlf.replace(b"\r\n", b"\n")  # fixed
    assert [p.read_bytes() for p in paths[1:]] == [crlf, crlf]  # untouched
    assert code == 130
    assert f"{paths[0]}:1:" in out.decode() and "RSP005 fixed" in out.decode(), out  # its notes
    assert "nothing was written" not in err and str(paths[0]) in err and str(paths[2]) not in err, err
    assert len(err.splitlines()) == 1, err


@pytest.mark.parametrize("bad, code", [(DUPLICATE, "RSP009"), (BIG, "RSP010")], ids=["duplicate-key", "big-int"])
def test_fix_refuses_only_when_there_is_something_to_fix(cli, tmp_path, bad, code):
    """The file's only finding is the value a rewrite would change: nothing to fix, so no refusal,
    and the finding is reported once, at the duplicate key or the number itself."""
    path = tmp_path / "c.jsonl"
    data = line(developer("Be brief.")) + bad
    path.write_bytes(data)
    r = cli("lint", "--fix", path)
    assert path.read_bytes() == data
    assert "not fixed" not in r.out + r.err and r.out.count(code) == 1, r.out
    column = int(re.search(rf":2:(\d+): {code}", r.out).group(1))
    at = bad.rindex(b'"role"') if code == "RSP009" else bad.index(b"18446744073709551616")
    assert column == at + 1, r.out
