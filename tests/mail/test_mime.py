"""Attachment names: the corpus, the stdlib as a reference for header
decoding, malformed input, big input, and blocked_name().
"""

from __future__ import annotations

import base64
import binascii
import email
import email.header
import email.message
import email.policy
import io
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simscan.mail.headers import MAX_KEY, MAX_PARAMS, MAX_WORDS, rfc2047
from simscan.mail.lines import CHUNK
from simscan.mail.mime import (
    HEADER_LIMIT,
    MAX_BOUNDARIES,
    MAX_DEPTH,
    MAX_NAMES,
    MAX_PARTS,
    _Decoder,
    _ripmime_begin_name,
    attachment_names,
    blocked_name,
    walk,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "attachments"
EXPECTED: dict[str, list[str]] = {
    file: entry["names"]
    for file, entry in tomllib.loads((DATA / "expected.toml").read_text("utf-8")).items()
}
CORPUS: dict[str, bytes] = {file: (DATA / file).read_bytes() for file in sorted(EXPECTED)}


def names_of(raw: bytes, chunk: int = CHUNK) -> list[str]:
    return attachment_names(io.BytesIO(raw), chunk=chunk)


def stdlib_names(raw: bytes, policy: email.policy.Policy) -> list[str]:
    msg = email.message_from_bytes(raw, policy=policy)
    return [name for part in msg.walk() if (name := part.get_filename())]


def message(part_headers: str | bytes, nl: bytes = b"\n", body: bytes = b"ZGF0YQ==") -> bytes:
    """A two-part message: a text part, then a part with `part_headers`
    (lines joined by "\\n"; folded lines allowed)."""
    if isinstance(part_headers, str):
        part_headers = part_headers.encode("ascii")
    lines = [
        b"From: a@example.org",
        b"To: b@example.net",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="=_b"',
        b"",
        b"--=_b",
        b"Content-Type: text/plain",
        b"",
        b"hello",
        b"--=_b",
        *part_headers.split(b"\n"),
        b"",
        body,
        b"--=_b--",
        b"",
    ]
    return nl.join(lines)


def multipart(boundary: bytes, parts: list[bytes], top: bytes = b"multipart/mixed") -> bytes:
    """Content-Type header, blank line and body of a multipart entity;
    each part is its own headers, blank line and body."""
    out = [b"Content-Type: " + top + b'; boundary="' + boundary + b'"\n\n']
    for part in parts:
        out.append(b"--" + boundary + b"\n" + part + b"\n")
    out.append(b"--" + boundary + b"--\n")
    return b"".join(out)


def b64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data)


# -- the corpus ---------------------------------------------------------------


def test_corpus_manifest_lists_every_message() -> None:
    assert {p.name for p in DATA.glob("*.eml")} == set(EXPECTED)


@pytest.mark.parametrize("chunk", [CHUNK, 7, 64, 1000])
@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_corpus_names(file: str, chunk: int) -> None:
    got = names_of(CORPUS[file], chunk)
    assert all(type(name) is str for name in got)
    # Every name a client shows is among them; other readings may be too.
    assert set(EXPECTED[file]) <= set(got)


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_corpus_names_do_not_depend_on_the_read_size(file: str) -> None:
    want = names_of(CORPUS[file])
    for chunk in [*range(1, 17), 31, 77, 128, 4093]:
        assert names_of(CORPUS[file], chunk) == want, chunk


def test_corpus_from_a_real_file() -> None:
    with open(DATA / "14-nested-multipart.eml", "rb") as f:
        assert sorted(attachment_names(f)) == sorted(EXPECTED["14-nested-multipart.eml"])


# -- header decoding against the email package ---------------------------------

_SPECIALS = list(" \"\\;='%*?.()<>,:/\t")


# What str.splitlines() splits on; email.header.Header turns these into folds.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def file_names(controls: bool, line_breaks: bool = True) -> st.SearchStrategy[str]:
    """Names with non-ASCII, spaces, quotes, semicolons, backslashes...;
    ASCII control characters only when `controls`."""
    blacklist = ("Cs",) if controls else ("Cs", "Cc")
    chars = st.one_of(
        st.characters(blacklist_categories=blacklist),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from(_SPECIALS if controls else _SPECIALS[:-1]),
    )
    if not line_breaks:
        chars = chars.filter(lambda c: c not in _LINE_BREAKS)
    return st.text(chars, min_size=1, max_size=40)


_UNQUOTED = {('"', '"'), ("<", ">")}


def assert_stdlib_agrees(raw: bytes, name: str, policies: tuple[str, ...]) -> None:
    """The email package strips the name; otherwise it must see the same.
    (Not for names in quotes or angle brackets: its unquote() takes those
    off a second time, so `""` comes back empty.)"""
    stripped = name.strip()
    if not stripped or (len(stripped) > 1 and (stripped[0], stripped[-1]) in _UNQUOTED):
        return
    for policy in policies:
        assert stdlib_names(raw, getattr(email.policy, policy)) == [name.strip()], policy


def add_header_value(header: str, name: str | tuple[str, str, str]) -> str:
    m = email.message.Message()
    if header == "Content-Disposition":
        m.add_header(header, "attachment", filename=name)
    else:
        m.add_header(header, "application/octet-stream", name=name)
    value = m[header]
    assert isinstance(value, str)
    return value


def part_with(header: str, value: str) -> str:
    if header == "Content-Disposition":
        return (
            "Content-Type: application/octet-stream\n"
            "Content-Transfer-Encoding: base64\n"
            f"Content-Disposition: {value}"
        )
    return f"Content-Type: {value}\nContent-Transfer-Encoding: base64"


headers = st.sampled_from(["Content-Disposition", "Content-Type"])
newlines = st.sampled_from([b"\n", b"\r\n"])


@settings(max_examples=300, deadline=None)
@given(name=file_names(controls=False), header=headers, nl=newlines)
def test_add_header_plain_or_rfc2231(name: str, header: str, nl: bytes) -> None:
    # ASCII names come out quoted (backslash escapes), others as RFC 2231.
    # A quoted ASCII value holding "=?" is RFC 2047-decoded on purpose.
    assume(not (name.isascii() and "=?" in name))
    raw = message(part_with(header, add_header_value(header, name)), nl)
    assert name in names_of(raw)
    assert name in names_of(raw, chunk=7)
    assert_stdlib_agrees(raw, name, ("compat32", "default"))


@settings(max_examples=300, deadline=None)
@given(name=file_names(controls=True), header=headers, nl=newlines)
def test_add_header_rfc2231_utf8(name: str, header: str, nl: bytes) -> None:
    value = add_header_value(header, ("utf-8", "", name))
    assert "*=utf-8''" in value
    raw = message(part_with(header, value), nl)
    assert name in names_of(raw)
    assert_stdlib_agrees(raw, name, ("compat32", "default"))


@settings(max_examples=200, deadline=None)
@given(name=file_names(controls=False), nl=newlines)
def test_stdlib_generator_rfc2231_continuations(name: str, nl: bytes) -> None:
    # EmailMessage folds long or non-ASCII names into filename*0*=, *1*= ...
    assume(not (name.isascii() and "=?" in name))
    m = email.message.EmailMessage()
    m["From"] = "a@example.org"
    m.set_content("hello\n")
    m.add_attachment(b"data", maintype="application", subtype="octet-stream", filename=name)
    raw = m.as_bytes(policy=email.policy.default.clone(linesep=nl.decode()))
    assert name in names_of(raw)
    assert name in names_of(raw, chunk=5)
    assert_stdlib_agrees(raw, name, ("default",))


def test_stdlib_generator_really_folds_long_names() -> None:
    name = "é" * 60 + " long name.exe"
    m = email.message.EmailMessage()
    m.add_attachment(b"data", maintype="application", subtype="octet-stream", filename=name)
    raw = m.as_bytes()
    assert b"filename*1*=" in raw
    assert name in names_of(raw)


@settings(max_examples=300, deadline=None)
@given(
    name=file_names(controls=True, line_breaks=False),
    charset=st.sampled_from(["utf-8", "iso-8859-1"]),
    header=headers,
    nl=newlines,
)
def test_rfc2047_words_in_a_quoted_name(name: str, charset: str, header: str, nl: bytes) -> None:
    try:
        name.encode(charset)
    except UnicodeEncodeError:
        assume(False)
    # Long names give several encoded words on folded lines.
    words = email.header.Header(name, charset).encode()
    assert words.startswith("=?")
    if header == "Content-Disposition":
        value = f'attachment; filename="{words}"'
    else:
        value = f'application/octet-stream; name="{words}"'
    raw = message(part_with(header, value), nl)
    assert name in names_of(raw)
    assert name in names_of(raw, chunk=3)
    assert rfc2047(words.replace("\n", "")) == name


@settings(max_examples=200, deadline=None)
@given(name=file_names(controls=False), nl=newlines)
def test_raw_utf8_quoted_name(name: str, nl: bytes) -> None:
    # RFC 6532: UTF-8 straight in the header.
    assume("=?" not in name)
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    value = f'attachment; filename="{quoted}"'.encode()
    raw = message(b"Content-Type: application/octet-stream\nContent-Disposition: " + value, nl)
    assert name in names_of(raw)


def test_raw_latin1_name_is_read_as_latin1() -> None:
    raw = message(b'Content-Disposition: attachment; filename="caf\xe9.exe"')
    assert names_of(raw) == ["café.exe"]


# -- header readings through the walk -----------------------------------------


@settings(max_examples=200, deadline=None)
@given(name=file_names(controls=True, line_breaks=False), before=st.sampled_from(["", "x ", "x"]))
def test_rfc2047_against_header_encode(name: str, before: str) -> None:
    words = email.header.Header(name, "utf-8").encode(linesep="\r\n")
    assert rfc2047(before + words) == before + name


def test_rfc2047_stray_marker_before_an_encoded_word() -> None:
    value = "=?junk =?utf-8?Q?evil.exe?="
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in email.header.decode_header(value)
    )
    assert decoded == "=?junk evil.exe"
    assert rfc2047(value) == decoded
    raw = message(f'Content-Disposition: attachment; filename="{value}"')
    assert blocked_name(names_of(raw), (b".exe",)) is not None


@pytest.mark.parametrize("charset", ["idna", "undefined", "punycode", "utf-8\0"])
@pytest.mark.parametrize("form", ["rfc2231", "rfc2047"])
def test_odd_charsets_never_raise(charset: str, form: str) -> None:
    if form == "rfc2231":
        value = f"attachment; filename*={charset}''evil%FF.exe"
    else:
        value = f'attachment; filename="=?{charset}?Q?evil=FF.exe?="'
    raw = message("Content-Type: application/octet-stream\nContent-Disposition: " + value)
    got = names_of(raw)
    assert got  # the decoded reading, and for RFC 2047 the word as written
    assert all(name.endswith(".exe") or name.endswith(".exe?=") for name in got)
    assert any(name.endswith(".exe") for name in got)


# -- structure ----------------------------------------------------------------


def test_digest_parts_default_to_message_rfc822() -> None:
    inner = (
        b"Subject: inner\nContent-Type: text/plain\n"
        b"Content-Disposition: attachment; filename=in-digest.exe\n\nx"
    )
    raw = b"MIME-Version: 1.0\n" + multipart(b"dg", [b"\n" + inner], top=b"multipart/digest")
    assert names_of(raw) == ["in-digest.exe"]
    # Outside a digest the same part is text/plain: its body is no header.
    raw = b"MIME-Version: 1.0\n" + multipart(b"dg", [b"\n" + inner])
    assert names_of(raw) == []


def test_digest_default_does_not_leak_into_nested_multipart() -> None:
    nested = multipart(b"in", [b"\nContent-Disposition: attachment; filename=not-a-header.exe\n"])
    raw = b"MIME-Version: 1.0\n" + multipart(b"dg", [nested], top=b"multipart/digest")
    assert names_of(raw) == []


@pytest.mark.parametrize("ctype", [b"message/rfc822", b"message/global", b"Message/RFC822"])
def test_attached_message(ctype: bytes) -> None:
    inner = multipart(b"inner", [b"Content-Disposition: attachment; filename=inner.exe\n\nx"])
    raw = b"MIME-Version: 1.0\n" + multipart(
        b"outer",
        [
            b"Content-Type: " + ctype + b"\n\nSubject: fwd\nMIME-Version: 1.0\n" + inner,
            b"Content-Disposition: attachment; filename=after.pdf\n\ny",
        ],
    )
    assert names_of(raw) == ["inner.exe", "after.pdf"]


def _wrap_b64_message(inner: bytes, name: bytes) -> bytes:
    return b"MIME-Version: 1.0\n" + multipart(
        b"w-" + name,
        [
            b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
            + b64_lines(inner),
            b"Content-Disposition: attachment; filename=" + name + b"\n\nx",
        ],
    )


@pytest.mark.parametrize("chunk", [CHUNK, 1, 7, 64])
def test_base64_messages_inside_base64_messages(chunk: int) -> None:
    msg = b"Content-Type: text/plain\n\nbegin 644 core.exe\n`\nend\n"
    for level in range(4):
        msg = _wrap_b64_message(msg, b"level%d.txt" % level)
    assert names_of(msg, chunk) == ["core.exe"] + [f"level{i}.txt" for i in range(4)]


def test_base64_messages_nested_too_deep_do_not_raise() -> None:
    msg = b"Content-Type: text/plain\n\nbegin 644 core.exe\n`\nend\n"
    for level in range(15):
        msg = _wrap_b64_message(msg, b"level%d.txt" % level)
    got = names_of(msg)
    assert got[-3:] == ["level12.txt", "level13.txt", "level14.txt"]


@pytest.mark.parametrize("cte", [b"base64", b"quoted-printable", b"7bit", b"8bit"])
@pytest.mark.parametrize("nl", [b"\n", b"\r\n"])
def test_uuencode_in_text_parts(cte: bytes, nl: bytes) -> None:
    text = b"see below\nbegin 644 uu.exe\nM\nend\nbegin-base64 755 uu2.exe\nAAAA\n====\n"
    body = base64.encodebytes(text) if cte == b"base64" else binascii.b2a_qp(text)
    body = body.replace(b"\n", nl)
    raw = b"MIME-Version: 1.0\n" + multipart(
        b"u", [b"Content-Type: text/html\nContent-Transfer-Encoding: " + cte + b"\n\n" + body]
    )
    assert names_of(raw.replace(b"\n", nl)) == ["uu.exe", "uu2.exe"]


@pytest.mark.parametrize(
    "line",
    [b"begin 66666 x.exe", b"begin 999 x.exe", b"begin 0 x.exe", b"begin 644", b"begin 644 ",
     b" begin 644 x.exe", b"begin-base64 644", b"begin644 x.exe", b"beginning 644 x.exe",
     b"begin abc x.exe", b"begin 8888 x.exe"],
)  # fmt: skip
def test_uuencode_near_misses(line: bytes) -> None:
    assert names_of(b"Subject: x\n\n" + line + b"\n") == []


@pytest.mark.parametrize(
    "line",
    [b"begin 644 x.exe", b"begin 0755 x.exe", b"begin 64 x.exe", b"begin 648 x.exe",
     b"begin 7 x.exe", b"begin 777 x.exe", b"Begin 644 x.exe", b"BEGIN 644 x.exe",
     b"begin\t644 x.exe", b"begin  644  x.exe", b"begin-base64 644 x.exe",
     b"BEGIN-BASE64 644 x.exe"],
)  # fmt: skip
def test_uuencode_begin_lines_of_every_reader(line: bytes) -> None:
    """Thunderbird: `begin `, 3 or 4 octal digits; ripmime: `begin` in any
    case, blanks, a mode from 1 to 777."""
    assert names_of(b"Subject: x\n\n" + line + b"\nM\nend\n") == ["x.exe"]


def test_uuencode_name_keeps_spaces() -> None:
    assert names_of(b"Subject: x\n\nbegin 0644 two words.exe \r\n") == ["two words.exe "]


def test_uuencode_in_a_binary_part_is_read() -> None:
    # ripmime (the C simscan) decodes uuencode in any part it reads raw.
    raw = message(b"Content-Type: application/octet-stream", body=b"begin 644 yes.exe")
    assert names_of(raw) == ["yes.exe"]


def test_same_name_in_filename_and_name_once() -> None:
    raw = message(
        "Content-Type: application/octet-stream; name=same.exe\n"
        "Content-Disposition: attachment; filename=same.exe"
    )
    assert names_of(raw) == ["same.exe"]


def test_every_header_of_a_kind_counts_for_names() -> None:
    # A client might take either header: both names are checked.
    raw = message(
        "Content-Disposition: attachment; filename=first.txt\n"
        "Content-Disposition: attachment; filename=second.exe"
    )
    assert names_of(raw) == ["first.txt", "second.exe"]


def test_every_form_of_a_parameter_counts() -> None:
    # The email package shows the RFC 2231 form; another client the plain.
    raw = message("Content-Disposition: attachment; filename*=utf-8''readme.txt; filename=evil.exe")
    assert names_of(raw) == ["readme.txt", "evil.exe"]


def test_headers_running_into_the_next_boundary() -> None:
    raw = b"MIME-Version: 1.0\n" + multipart(
        b"r", [b"Content-Disposition: attachment; filename=no-body.exe", b"\nx"]
    )
    assert names_of(raw) == ["no-body.exe"]


def test_message_of_headers_only() -> None:
    assert names_of(b"Content-Type: image/png; name=only.png") == ["only.png"]
    assert names_of(b"Content-Type: image/png; name=only.png\n") == ["only.png"]


def test_boundary_with_transport_padding_and_closing_delimiter() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="pad"\n\n'
        b"--pad \t\r\n"
        b"Content-Disposition: attachment; filename=a.exe\n\nx\n"
        b"--pad-- \n"
        b"--pad\n"  # after the closing delimiter: epilogue
        b"Content-Disposition: attachment; filename=epilogue.exe\n\nx\n"
    )
    # No boundary is ever forgotten: the epilogue's part is read too (no
    # reader shows it; reading it costs nothing but a look).
    assert names_of(raw) == ["a.exe", "epilogue.exe"]


@pytest.mark.parametrize("nl", [b"\n", b"\r\n"])
def test_boundary_right_after_the_headers_that_declare_it(nl: bytes) -> None:
    # No blank line: Python's email starts the body at the first line that
    # is no header, and there the part starts.  Its own body starts early too.
    inner = b"Content-Disposition: attachment; filename=in.exe\n\nx\n"
    raw = nl.join(
        [
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="b1"',
            b"--b1",
            b"Content-Type: application/octet-stream; name=fwd.eml",
            b"Content-Transfer-Encoding: base64",
            base64.b64encode(inner),
            b"",
            b"--b1--",
            b"",
        ]
    )
    for policy in (email.policy.compat32, email.policy.default):
        part = list(email.message_from_bytes(raw, policy=policy).walk())[-1]
        assert part.get_filename() == "fwd.eml"  # which clients open as a message
        assert part.get_payload(decode=True) == inner
    assert "in.exe" in names_of(raw)


def test_a_close_delimiter_starts_no_part() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="c"\n\n--c\nContent-Type: text/plain\n\nx\n'
        b"--c-- \t\nContent-Disposition: attachment; filename=after-close.exe\n\n--c--\n"
    )
    assert names_of(raw) == []


def test_boundary_prefix_lines_are_not_boundaries() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="bb"\n\n'
        b"--bb\nContent-Type: text/plain\n\n"
        b"--bbx\n--b\n--bb---\nbegin 644 in-text.exe\n"
        b"--bb\nContent-Disposition: attachment; filename=second.exe\n\nx\n--bb--\n"
    )
    assert names_of(raw) == ["in-text.exe", "second.exe"]


def test_boundary_is_not_rfc2047_decoded() -> None:
    b = "=?utf-8?Q?abc?="
    raw = (
        f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{b}"\n\n'
        f"--{b}\nContent-Type: text/plain\n\nhi\n"
        f"--{b}\nContent-Disposition: attachment; filename=evil.exe\n\nx\n--{b}--\n"
    ).encode()
    assert stdlib_names(raw, email.policy.compat32) == ["evil.exe"]
    assert names_of(raw) == ["evil.exe"]


@pytest.mark.parametrize(
    "param", ["boundary*=utf-7''+2AA-", 'boundary="=?utf-7?Q?+2AA-?="'], ids=["rfc2231", "rfc2047"]
)
def test_boundary_decoding_to_a_lone_surrogate_does_not_raise(param: str) -> None:
    raw = (
        f"MIME-Version: 1.0\nContent-Type: multipart/mixed; {param}\n\n"
        "--+2AA-\nContent-Disposition: attachment; filename=x.exe\n\nx\n--+2AA---\n"
    ).encode()
    assert all(type(name) is str for name in names_of(raw))


# -- decoding must not depend on where the reads end ---------------------------

_READ_SIZES = [CHUNK, *range(1, 40), 64, 1000]


def _text_part_message(cte: bytes, body: bytes) -> bytes:
    return b"MIME-Version: 1.0\n" + multipart(
        b"B",
        [
            b"Content-Type: text/plain\nContent-Transfer-Encoding: " + cte + b"\n\n" + body,
            b"Content-Disposition: attachment; filename=after.txt\n\nx",
        ],
    )


def _by_read_size(raw: bytes) -> dict[int, list[str]]:
    return {chunk: names_of(raw, chunk) for chunk in _READ_SIZES}


def test_base64_text_part_split_anywhere() -> None:
    text = b"intro\n" + b"x" * 100 + b"\nbegin 644 b64.exe\nM\nend\n"
    raw = _text_part_message(b"base64", base64.encodebytes(text))
    for chunk, got in _by_read_size(raw).items():
        assert got == ["b64.exe", "after.txt"], chunk


def test_qp_text_part_plain_lines_split_anywhere() -> None:
    raw = _text_part_message(b"quoted-printable", b"intro\nbegin 644 qp.exe\nM\nend")
    for chunk, got in _by_read_size(raw).items():
        assert got == ["qp.exe", "after.txt"], chunk


@pytest.mark.parametrize("body", [b"intro\nbeg=\nin 644 qp.exe\nM\nend", b"=62egin 644 qp.exe"])
def test_qp_escapes_and_soft_breaks_split_anywhere(body: bytes) -> None:
    raw = _text_part_message(b"quoted-printable", body)
    assert binascii.a2b_qp(body).count(b"begin 644 qp.exe") == 1
    for chunk, got in _by_read_size(raw).items():
        assert got == ["qp.exe", "after.txt"], chunk


def test_base64_padding_mid_stream_independent_of_read_size() -> None:
    body = (
        base64.encodebytes(b"hello\n")
        + base64.encodebytes(b"a\n")  # "YQo=": padding in the middle of the body
        + base64.encodebytes(b"begin 644 pad.exe\nM\nend\n")
    )
    results = {tuple(got) for got in _by_read_size(_text_part_message(b"base64", body)).values()}
    assert len(results) == 1, results


def test_base64_broken_tail_keeps_what_came_before() -> None:
    text = b"begin 644 good.exe\nM\nend\n"
    text += b"x" * (-len(text) % 3)  # no padding: the junk follows a full quad
    raw = _text_part_message(b"base64", base64.encodebytes(text) + b"A===\n")
    for chunk, got in _by_read_size(raw).items():
        assert got == ["good.exe", "after.txt"], chunk


# -- robustness ---------------------------------------------------------------


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    file = draw(st.sampled_from(sorted(CORPUS)))
    data = bytearray(CORPUS[file])
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "truncate", "nul", "dup", "splice"]))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "nul":
            data[at:at] = b"\0" * draw(st.integers(1, 3))
        elif op == "dup":
            lines = [ln for ln in bytes(data).splitlines(keepends=True) if ln.startswith(b"--")]
            if lines:
                data[at:at] = draw(st.sampled_from(lines))
        elif op == "splice":
            other = CORPUS[draw(st.sampled_from(sorted(CORPUS)))]
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(0, 300))]
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated_corpus(), chunk=st.sampled_from([CHUNK, 64, 7]))
def test_mutated_corpus_never_raises(raw: bytes, chunk: int) -> None:
    got = names_of(raw, chunk)
    assert isinstance(got, list)
    assert all(type(name) is str for name in got)
    assert len(got) <= MAX_NAMES


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=400), chunk=st.sampled_from([CHUNK, 3]))
def test_random_bytes_never_raise(raw: bytes, chunk: int) -> None:
    assert all(type(name) is str for name in names_of(raw, chunk))


def test_200_levels_of_nesting() -> None:
    depth = 200
    lines = [b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="lvl0"', b""]
    for level in range(1, depth):
        ctype = b'Content-Type: multipart/mixed; boundary="lvl%d"' % level
        lines += [b"--lvl%d" % (level - 1), ctype, b""]
    deepest = b"Content-Disposition: attachment; filename=deep.exe"
    lines += [b"--lvl%d" % (depth - 1), deepest, b"", b"x"]
    for level in range(depth - 1, 0, -1):
        lines.append(b"--lvl%d--" % level)
    lines += [b"--lvl0", b"Content-Disposition: attachment; filename=after.exe", b"", b"y"]
    lines += [b"--lvl0--", b""]
    raw = b"\n".join(lines)
    for chunk in (CHUNK, 7):
        got = names_of(raw, chunk)
        assert all(type(name) is str for name in got)
        assert got[-1] == "after.exe"


def test_one_megabyte_header_line() -> None:
    junk = b"X-Junk: " + b"j" * (1 << 20)
    # In the message headers, after Content-Type.
    raw = (
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="h"\n' + junk + b"\n\n"
        b"--h\nContent-Disposition: attachment; filename=a.exe\n" + junk + b"\n\nx\n"
        b"--h\nContent-Disposition: attachment; filename=b.exe\n\nx\n--h--\n"
    )
    assert names_of(raw) == ["a.exe", "b.exe"]
    assert names_of(raw, chunk=4096) == ["a.exe", "b.exe"]
    # A message that is nothing but one huge header line, and a huge body line.
    assert names_of(junk) == []
    got = names_of(b"Subject: x\n\n" + b"begin 644 " + b"n" * (1 << 20))
    assert len(got) == 1
    assert set(got[0]) == {"n"}


@pytest.mark.parametrize(
    "junk",
    [b"X-Junk: " + b"j" * (1 << 20) + b"\n", b"Received: from a by b; 1 Jan 2025\n" * 20000],
    ids=["one-long-line", "many-lines"],
)
def test_headers_after_a_huge_header_still_count(junk: bytes) -> None:
    raw = junk + (
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="h"\n\n'
        b"--h\nContent-Disposition: attachment; filename=evil.exe\n\nx\n--h--\n"
    )
    assert stdlib_names(raw, email.policy.compat32) == ["evil.exe"]
    assert names_of(raw) == ["evil.exe"]


def test_max_names_from_uuencode_lines() -> None:
    n = MAX_NAMES + 50
    text = b"".join(b"begin 644 f%d.exe\n" % i for i in range(n))
    raw = b"MIME-Version: 1.0\n" + multipart(b"m", [b"Content-Type: text/plain\n\n" + text])
    got = names_of(raw)
    assert len(got) == MAX_NAMES
    assert got == [f"f{i}.exe" for i in range(MAX_NAMES)]
    # The same text base64-encoded: decoded in blocks, still capped.
    raw = b"MIME-Version: 1.0\n" + multipart(
        b"m", [b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + b64_lines(text)]
    )
    got = names_of(raw)
    assert got == [f"f{i}.exe" for i in range(MAX_NAMES)]


def test_max_names_from_part_headers() -> None:
    parts = [b"Content-Type: a/b; name=n%d.bin\n\nx" % i for i in range(MAX_NAMES + 10)]
    got = names_of(b"MIME-Version: 1.0\n" + multipart(b"p", parts))
    assert got == [f"n{i}.bin" for i in range(MAX_NAMES)]


def test_big_base64_attachment_then_another_part(tmp_path: Path) -> None:
    path = tmp_path / "big.eml"
    line = base64.b64encode(bytes(range(57))) + b"\n"
    count = 20 * 1024 * 1024 // len(line)
    with open(path, "wb") as f:
        f.write(
            b"From: a@example.org\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/mixed; boundary="big"\n\n'
            b"--big\nContent-Type: application/octet-stream\n"
            b"Content-Transfer-Encoding: base64\n"
            b'Content-Disposition: attachment; filename="big.bin"\n\n'
        )
        f.write(line * count)
        f.write(
            b"--big\nContent-Type: text/plain\n"
            b'Content-Disposition: attachment; filename="later.txt"\n\nhello\n--big--\n'
        )
    assert path.stat().st_size > 20_000_000
    with open(path, "rb") as f:
        assert attachment_names(f) == ["big.bin", "later.txt"]


# -- blocked_name -------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "endings", "want"),
    [
        ([], (b".exe",), None),
        (["a.exe"], (), None),
        (["a.txt"], (b".exe",), None),
        (["a.exe"], (b".exe",), "a.exe"),
        (["A.EXE"], (b".exe",), "A.EXE"),
        (["a.ExE"], (b"exe",), "a.ExE"),
        (["evil.exe."], (b".exe",), "evil.exe."),
        (["evil.exe  "], (b".exe",), "evil.exe  "),
        (["evil.exe . .\t"], (b"exe",), "evil.exe . .\t"),
        (["exe"], (b"exe",), "exe"),
        (["EXE."], (b"exe",), "EXE."),
        (["annexe"], (b"exe",), None),
        (["annexe"], (b".exe",), None),
        ([".exe"], (b"exe",), ".exe"),
        (["a.exe.txt"], (b".exe",), None),
        (["a.txt", "b.exe", "c.exe"], (b".exe",), "b.exe"),
        (["a.scr", "b.exe"], (b".exe", b".scr"), "a.scr"),  # first name, not first ending
        (["x.tar.gz"], (b".tar.gz",), "x.tar.gz"),
        (["x.tar.gz"], (b"tar.gz",), "x.tar.gz"),
        (["résumé.exe"], (b".exe",), "résumé.exe"),
        (["файл.EXE"], (b".exe",), "файл.EXE"),
        (["€.exe"], ("€.exe".encode(),), "€.exe"),
        ([""], (b"exe",), None),
        ([" . "], (b"exe",), None),
    ],
)
def test_blocked_name(names: list[str], endings: tuple[bytes, ...], want: str | None) -> None:
    assert blocked_name(names, endings) == want


def test_blocked_name_on_corpus_trailing_dots() -> None:
    names = names_of(CORPUS["27-trailing-dot-and-spaces.eml"])
    assert sorted(names) == ["evil.exe.", "evil2.exe  "]
    assert blocked_name(names, (b".exe",)) == names[0]
    assert blocked_name(names[1:], (b"exe",)) == "evil2.exe  "


# --- blocking while walking, and the limits made visible ---------------------


def blocked_in(raw: bytes, *endings: bytes) -> tuple[str | None, list[str]]:
    names = walk(io.BytesIO(raw), endings)
    return names.blocked, names.truncated


def test_a_blocked_name_after_more_than_max_names_is_found() -> None:
    text = b"".join(b"begin 644 f%d.txt\n" % i for i in range(MAX_NAMES + 5))
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        + text
        + b"--b\nContent-Type: a/b; name=evil.exe\n\nx\n--b--\n"
    )
    assert blocked_in(raw, b".exe") == ("evil.exe", [])


def test_the_walk_stops_at_the_first_blocked_name() -> None:
    raw = message(
        "Content-Disposition: attachment; filename=one.exe\nContent-Type: a/b; name=b.scr"
    )
    assert blocked_in(raw, b".scr", b".exe") == ("one.exe", [])


def nested(depth: int, leaf: bytes) -> bytes:
    # Boundaries of one length: none is a prefix of another.
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%05d"\n\n--n%05d\n' % (i, i)
        for i in range(depth)
    )
    tail = b"".join(b"\n--n%05d--\n" % i for i in reversed(range(depth)))
    return head + leaf + tail


def test_boundaries_over_the_limit_are_reported() -> None:
    leaf = b"Content-Type: a/b; name=deep.exe\n\nx"
    assert blocked_in(nested(MAX_BOUNDARIES, leaf), b".exe") == ("deep.exe", [])
    names = walk(io.BytesIO(nested(MAX_BOUNDARIES + 1, leaf)), ())
    assert names.truncated == [f"more than {MAX_BOUNDARIES} multipart boundaries"]


def test_parts_over_the_limit_are_reported() -> None:
    parts = b"".join(b"--p\nContent-Type: text/plain\n\nx\n" for _ in range(MAX_PARTS))
    raw = b'Content-Type: multipart/mixed; boundary="p"\n\n' + parts
    assert blocked_in(raw + b"--p\nContent-Type: a/b; name=last.exe\n\n", b".exe") == (
        None, [f"more than {MAX_PARTS} MIME parts"],
    )  # fmt: skip
    fewer = raw.replace(b"--p\nContent-Type: text/plain\n\nx\n", b"", 2)
    assert blocked_in(fewer + b"--p\nContent-Type: a/b; name=last.exe\n\n", b".exe") == (
        "last.exe", [],
    )  # fmt: skip


def test_encoded_messages_nested_over_the_limit_are_reported() -> None:
    inner = b"Content-Type: a/b; name=deep.exe\n\nx\n"
    for _ in range(MAX_DEPTH + 1):
        inner = (
            b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(inner)
        )
    blocked, truncated = blocked_in(inner, b".exe")
    assert blocked is None
    assert truncated == [f"encoded parts nested over {MAX_DEPTH}"]


def test_content_headers_over_the_limit_are_reported() -> None:
    padding = "; x=" + "a" * (HEADER_LIMIT + 10)
    blocked, truncated = blocked_in(message("Content-Type: a/b" + padding), b".exe")
    assert blocked is None
    assert truncated == [f"Content-* headers of a part over {HEADER_LIMIT} bytes"]
    # Other headers, however big, do not count.
    raw = b"X-Junk: " + b"j" * (2 * HEADER_LIMIT) + b"\n" + message("Content-Type: a/b; name=x.exe")
    assert blocked_in(raw, b".exe") == ("x.exe", [])


@pytest.mark.parametrize("digit", ["\u00b2", "\u00b9", "\u00b3"])
def test_non_ascii_digits_in_a_continuation_number(digit: str) -> None:
    raw = message(f"Content-Disposition: attachment; filename*{digit}=evil.exe".encode("latin-1"))
    assert names_of(raw) == []


@pytest.mark.parametrize(
    ("name", "blocked"),
    [
        ("evil.exe\x00.txt", True),  # a C program (ripmime) stops at the NUL
        ("evil.e\x01xe", True),
        ("evil.exe\x7f", True),
        ("evil\u0085.exe", True),
        ("fine.txt\x00.exe", True),  # Python shows the name with its NUL
        ("\x00evil.exe", True),
        ("fine.txt\x00", False),
        # ripmime's FNFILTER_filter: quotes off, the last path segment, a `?` cuts.
        ("'evil.exe'", True),
        ('"evil.exe"', True),
        ("dir/evil.exe?.txt", True),
        ("evil.exe?x=1", True),
        ("=?evil.exe?.txt", False),  # a `?` after `=` stays
        ("?evil.exe?.txt", False),  # only the first `?`, and not at the start
        ("c:\\tmp\\evil.exe", True),
        ("evil.exe/fine.txt", False),
    ],
)
def test_controls_and_nul_in_names(name: str, blocked: bool) -> None:
    assert (blocked_name([name], (b".exe",)) is not None) is blocked


def test_many_boundary_like_lines_and_padding_groups_still_decide() -> None:
    # Shapes that were quadratic: each still gives the right answer.
    dashes = b"a\n--x\n" * 50000
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        + dashes
        + b"begin 644 late.exe\n--b--\n"
    )
    assert blocked_in(raw, b".exe") == ("late.exe", [])
    pads = b"QQ==\n" * 100000
    raw = (
        b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        + pads
        + base64.encodebytes(b"\nbegin 644 pad.exe\n")
    )
    assert blocked_in(raw, b".exe") == ("pad.exe", [])
    words = "=?x?B?a " * 20000
    assert rfc2047(words) == words


# -- what mutation testing of the first walker showed unpinned (issue 12) -----


@pytest.mark.parametrize(
    "disposition",
    [
        "attachment;filename=x.exe",  # no space after ";"
        "attachment; foo; filename=x.exe",  # a parameter without a value before it
        "attachment; foo=; filename=x.exe",  # an empty value before it
        "attachment; filename=x.exe;",  # a trailing separator
    ],
)
def test_pinned_disposition_shapes(disposition: str) -> None:
    raw = message("Content-Type: application/octet-stream\nContent-Disposition: " + disposition)
    assert stdlib_names(raw, email.policy.compat32) == ["x.exe"]
    assert names_of(raw) == ["x.exe"]


def test_pinned_filename_at_the_end_of_a_100k_disposition() -> None:
    padding = "".join(f"; p{i}=v{i}" for i in range(8000))
    assert 100_000 < len(padding) < HEADER_LIMIT
    raw = message(f"Content-Disposition: attachment{padding}; filename=end.exe")
    assert stdlib_names(raw, email.policy.compat32) == ["end.exe"]
    assert names_of(raw) == ["end.exe"]
    assert names_of(raw, chunk=4096) == ["end.exe"]


@pytest.mark.parametrize(
    "declared",
    ["boundary*=utf-8''b%2Dx", "boundary*=''b-x", "boundary*0=b; boundary*1=-x"],
    ids=["charset", "no-charset", "continued"],
)
def test_pinned_rfc2231_boundary_is_what_finds_the_part(declared: str) -> None:
    # Without the boundary read from its RFC 2231 form, the part's headers
    # are body text and the name is never seen.
    raw = (
        f"MIME-Version: 1.0\nContent-Type: multipart/mixed; {declared}\n\n"
        "--b-x\nContent-Type: application/octet-stream; name=inside.exe\n\nx\n--b-x--\n"
    ).encode()
    assert email.message_from_bytes(raw).get_boundary() == "b-x"
    assert names_of(raw) == ["inside.exe"]


@pytest.mark.parametrize(
    "bad",
    ["=?utf-8?Z?a?=", "=?utf-8?B?A?=", "=?junk", "=?utf-8?Q?no end"],
    ids=["bad-encoding", "bad-base64", "no-charset", "unclosed"],
)
def test_pinned_good_word_after_a_malformed_one(bad: str) -> None:
    value = f"{bad} =?utf-8?Q?evil.exe?="
    assert rfc2047(value).endswith("evil.exe")
    raw = message(f'Content-Disposition: attachment; filename="{value}"')
    assert blocked_name(names_of(raw), (b".exe",)) is not None


# --- reading headers costs time in proportion to their length ----------------


def test_more_wanted_parameters_than_the_limit_fail_closed() -> None:
    # Junk name= pairs before the real one used to stop the reading silently.
    junk = "".join(f"; name=j{i}" for i in range(MAX_PARAMS))
    blocked, truncated = blocked_in(message(f"Content-Type: a/b{junk}; name=x.exe"), b".exe")
    assert (blocked, truncated) == (
        None,
        [f"more than {MAX_PARAMS} parameters in a Content-* header"],
    )
    fewer = "".join(f"; name=j{i}" for i in range(MAX_PARAMS - 1))
    assert blocked_in(message(f"Content-Type: a/b{fewer}; name=x.exe"), b".exe") == ("x.exe", [])


@pytest.mark.parametrize(
    ("value", "why"),
    [
        # Each unquoted reading runs to the end: readings the square of the value.
        (":name==?" * 2000, "Content-* header parameters too entangled to read"),
        (":filename=:name=()=?" * 1000, "Content-* header parameters too entangled to read"),
    ],
)
def test_entangled_parameters_fail_closed(value: str, why: str) -> None:
    # (The hostile review's: 16 KB of these took a minute, cubic in the length.)
    raw = message("Content-Type: text/plain\nContent-Disposition: attachment; " + value)
    assert blocked_in(raw, b".exe") == (None, [why])


def test_continuations_too_entangled_fail_closed() -> None:
    # A reader that took the first k pieces for something else has the
    # rest (k < 32): 900 pieces joined 32 ways outgrow the value.
    pieces = "".join(f"; name*{i}={'a' * 30}" for i in range(900))
    raw = message("Content-Type: a/b" + pieces)
    assert blocked_in(raw, b".exe") == (
        None, ["RFC 2231 continuations in a Content-* header too entangled to read"],
    )  # fmt: skip
    # Twelve of them (a long name, as mail clients split it) are read.
    pieces = "".join(f"; name*{i}*=%41{'a' * 60}" for i in range(11)) + "; name*11=.exe"
    assert blocked_in(message("Content-Type: a/b" + pieces), b".exe")[1] == []
    assert names_of(message("Content-Type: a/b" + pieces))[0].endswith("a.exe")


def test_encoded_words_over_the_message_limit_fail_closed() -> None:
    word = "=?utf-8?q?a?="
    per_part = (HEADER_LIMIT - 100) // len(word)
    parts = "".join(
        f"--p\nContent-Type: a/b; name={word * per_part}\n\nx\n"
        for _ in range(MAX_WORDS // per_part + 1)
    )
    raw = f'Content-Type: multipart/mixed; boundary="p"\n\n{parts}--p--\n'.encode()
    assert blocked_in(raw, b".exe") == (
        None, [f"more than {MAX_WORDS} encoded words in Content-* headers"],
    )  # fmt: skip


def test_a_long_key_is_no_key() -> None:
    zeros = "0" * (MAX_KEY - len("filename*1"))
    assert names_of(message(f"Content-Type: a/b; filename*0{zeros}1=b.exe")) == []
    # A wanted key of MAX_KEY (a continuation number with leading zeros) counts.
    assert names_of(message(f"Content-Type: a/b; filename*{zeros}1=b.exe")) == ["b.exe"]


# --- ripmime's second look at a leaf part (MIME_is_file_RFC822) ---------------

ENTITY = b"Content-Type: a/b; name=x.exe\n\nbody\n"


def leaf(body: bytes, headers: bytes = b"Content-Type: text/plain\n") -> bytes:
    return b"From: a@example.org\nSubject: s\n" + headers + b"\n" + body


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b"MIME-Version: 1.0\n" + ENTITY, True),
        (b"Content-Type: a/b; name=x.exe\nMIME-VERSION: 1.0\n\nbody\n", True),  # any order, case
        (b"mime-version: 1.0\nfrom: x\nContent-Type: a/b; name=x.exe\n\nb\n", True),
        (ENTITY, False),  # no MIME-Version
        (b"MIME-Version: 1.0\nX-Type: a/b; name=x.exe\n", False),  # no second mark
        (b"MIME-Version: 1.0\nSubject: \n" + ENTITY, True),  # Subject: counts
        (b"MIME-Version: 1.0\nReceived: by x\nX: a/b; name=x.exe\n", False),  # marks, no name
        (b"hello\n\nMIME-Version: 1.0\n" + ENTITY, False),  # a blank line ends the look
        (b"hello\r\n\r\nMIME-Version: 1.0\n" + ENTITY, False),
        (b"hello\rMIME-Version: 1.0\n" + ENTITY, False),  # a CR ends no line for fgets
        # fgets reads 1023 bytes at a time: a mark there starts a line...
        (b"x" * 1023 + b"MIME-Version: 1.0\n" + ENTITY, True),
        (b"x" * 1022 + b"MIME-Version: 1.0\n" + ENTITY, False),
        # ... and a line of exactly 1023 bytes is followed by a blank one.
        (b"x" * 1023 + b"\nMIME-Version: 1.0\n" + ENTITY, False),
        (b"x" * 1024 + b"\nMIME-Version: 1.0\n" + ENTITY, True),
        # 100 lines are looked at.
        (b"x\n" * 98 + b"MIME-Version: 1.0\n" + ENTITY, True),
        (b"x\n" * 99 + b"MIME-Version: 1.0\n" + ENTITY, False),
    ],
)
@pytest.mark.parametrize(
    "encoding",
    [b"", b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n"],
)
@pytest.mark.parametrize("kind", [b"text/plain", b"application/octet-stream", b"image/png"])
def test_a_leaf_that_starts_like_a_message_is_read_as_one(
    body: bytes, found: bool, encoding: bytes, kind: bytes
) -> None:
    if b"base64" in encoding:
        body = base64.encodebytes(body)
    elif encoding:
        body = binascii.b2a_qp(body)
    raw = leaf(body, b"Content-Type: " + kind + b"\n" + encoding)
    for chunk in (CHUNK, 7):
        assert ("x.exe" in names_of(raw, chunk)) is found, chunk


def test_a_leaf_read_as_a_message_goes_on_to_the_next_part() -> None:
    inner = b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="i"\n\n--i\n' + ENTITY
    raw = message(
        b"Content-Type: image/png\nContent-Transfer-Encoding: base64",
        body=base64.encodebytes(inner),
    )
    raw = raw.replace(b"--=_b--", b'--=_b\nContent-Type: a/b; name="next.scr"\n\n--=_b--')
    assert names_of(raw)[-2:] == ["x.exe", "next.scr"]


def test_a_big_attachment_is_decoded_only_as_far_as_the_look() -> None:
    # (The decoder lets go once the look is done: the rest is skipped.)
    body = base64.encodebytes(b"\x89PNG\r\n" + bytes(range(256)) * 40000)
    names = walk(
        io.BytesIO(leaf(body, b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n")),
        (b".exe",),
    )
    assert (names.found, names.truncated) == ([], [])


@pytest.mark.parametrize("encoding", ["x-uuencode", "uuencode", "x-uue", "uue", "X-UUEncode (old)"])
def test_uuencoded_bodies_are_decoded(encoding: str) -> None:
    data = b"MIME-Version: 1.0\n" + ENTITY
    lines = b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45))
    body = b"junk\nbegin 644 f.eml\n" + lines + b"`\nend\nmore\n"
    raw = leaf(
        body,
        f"Content-Type: application/octet-stream\nContent-Transfer-Encoding: {encoding}\n".encode(),
    )
    assert sorted(names_of(raw)) == ["f.eml", "x.exe"]


@pytest.mark.parametrize(
    ("encoding", "found"),
    [("base64", False), ("quoted-printable", True), ("7bit", True), ("base64 junk", True)],
)
def test_uuencode_lines_count_in_a_body_some_reader_reads_as_written(
    encoding: str, found: bool
) -> None:
    # A base64 decoder (every reader's, for a body all take for base64)
    # passes over a `begin` line: no reader sees it as text.
    body = b"QUJD\nbegin 644 x.exe\nM\nend\nREVG\n"
    raw = leaf(
        body,
        f"Content-Type: application/octet-stream\nContent-Transfer-Encoding: {encoding}\n".encode(),
    )
    assert ("x.exe" in names_of(raw)) is found


@pytest.mark.parametrize(
    ("name", "reported"),
    [
        ("evil.exe", "evil.exe"),
        ("evil.exe\x00.txt", "evil.exe"),  # what ripmime writes
        ("'evil.exe'", "evil.exe"),
        ("evil.exe?.txt", "evil.exe"),
        ("\x00evil.exe", "evil.exe"),
        ("evil.e\x01xe", "evil.e\x01xe"),  # (the log line turns controls into spaces)
    ],
)
def test_the_reading_that_is_blocked_is_the_one_reported(name: str, reported: str) -> None:
    assert blocked_name(["fine.txt", name], (b".exe",)) == reported


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (b"begin 644 x.exe\n", "x.exe"),
        (b"begin xyz a b.exe\r\n", "a b.exe"),  # the mode is never checked
        (b"begin\tx.exe\n", "x.exe"),  # no rest: the "mode" is the name
        (b"begin\x0cxyz x.exe\n", "x.exe"),  # \f is a blank for isspace, not strtok
        (b"begin  644  x.exe\n", " x.exe"),  # strtok: the rest after one blank
        (b"begin:644 x.exe\n", ""),
        (b"begin 644\n", "644"),
        (b"begin \n", ""),
        (b"beginx 1 y\n", ""),
        (b"BEGIN 1 y.exe", "y.exe"),
    ],
)
def test_ripmime_begin_name(line: bytes, name: str) -> None:
    assert _ripmime_begin_name(line) == name


def test_uudecode_files_only_and_as_far_as_the_length_says() -> None:
    line = binascii.b2a_uu(b"hello world")
    decoder = _Decoder("x-uuencode", None, None)
    data = (
        b"before\n" + line + b"begin 644 f\n" + line + b"`\nend\n" + line
        + b"Begin 1 g\n" + line.rstrip(b"\n") + b"junkjunk\nend\n"
    )  # fmt: skip
    assert decoder._uudecode(data) == b"hello world" * 2


def test_decoding_over_the_limit_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import simscan.mail.mime as mime

    inner = b"Content-Type: text/plain\n\n" + b"x" * 5000 + b"\nbegin 644 late.exe\nM\nend\n"
    raw = (
        b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(inner)
    )
    assert blocked_in(raw, b".exe") == ("late.exe", [])
    monkeypatch.setattr(mime, "MAX_DECODED", 4000)
    assert blocked_in(raw, b".exe") == (None, ["more than 0 MB decoded in encoded parts"])
