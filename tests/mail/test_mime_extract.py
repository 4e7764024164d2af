"""mime.extract: every leaf part's decoded body in part0001, part0002, ...
(what a directory-scanning daemon such as Trophie sees), checked against
the email package's own decoding.

One difference from the email package is deliberate: a part that is not
base64 is written up to its boundary line *with* the line break before it,
as ripmime (which the C simscan ran for Trophie) writes it.  RFC 2046 gives
that line break to the boundary and the email package drops it; base64
parts come out exactly the same either way."""

from __future__ import annotations

import base64
import email
import email.policy
import io
import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from simscan.mail import mime
from simscan.mail.lines import CHUNK
from simscan.mail.mime import extract

CHUNKS = [7, 64, 1000, CHUNK]


def parts(directory: Path) -> list[bytes]:
    """The part files' contents, in order; nothing else may be there."""
    names = sorted(os.listdir(directory))
    assert names == [f"part{i:04d}" for i in range(1, len(names) + 1)]
    return [(directory / name).read_bytes() for name in names]


def extracted(tmp_path: Path, raw: bytes, chunk: int = CHUNK) -> list[bytes]:
    directory = tmp_path / f"x{chunk}-{len(os.listdir(tmp_path))}"
    directory.mkdir()
    names = extract(io.BytesIO(raw), str(directory), chunk)
    found = parts(directory)
    assert names.parts is not None
    assert names.parts.count == len(found)
    return found


def all_chunks(tmp_path: Path, raw: bytes) -> list[bytes]:
    """extract() at every read size; the results must agree."""
    results = [extracted(tmp_path, raw, chunk) for chunk in CHUNKS]
    for result in results[1:]:
        assert result == results[0]
    return results[0]


def crlf(text: bytes) -> bytes:
    return text.replace(b"\n", b"\r\n")


def email_leaves(raw: bytes, ripmime: bool = False) -> list[bytes]:
    """What the email package decodes for each leaf, in order; with
    `ripmime`, with the line break before the boundary kept in each part
    that is not base64 (see the module docstring)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    linesep = b"\r\n" if b"\r\n" in raw else b"\n"
    out = []
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            if ripmime and message.is_multipart() and part["content-transfer-encoding"] != "base64":
                payload += linesep
            out.append(payload)
    return out


# --- one leaf, each encoding -----------------------------------------------------

HEAD = b"From: a@example.org\nTo: b@example.org\nSubject: test\nMIME-Version: 1.0\n"


def test_non_mime_message(tmp_path: Path) -> None:
    raw = b"From: a@example.org\nSubject: hi\n\nJust a body.\nTwo lines.\n"
    assert all_chunks(tmp_path, raw) == [b"Just a body.\nTwo lines.\n"]
    assert all_chunks(tmp_path, crlf(raw)) == [b"Just a body.\r\nTwo lines.\r\n"]
    assert email_leaves(raw) == [b"Just a body.\nTwo lines.\n"]


def test_headers_only(tmp_path: Path) -> None:
    # (no blank line, no Content-* header: no body, and no part either)
    assert all_chunks(tmp_path, b"From: a@example.org\nSubject: hi\n") in ([], [b""])
    assert all_chunks(tmp_path, b"From: a@example.org\nSubject: hi\n\n") == [b""]


def test_empty_input(tmp_path: Path) -> None:
    assert all_chunks(tmp_path, b"") == []


def test_base64_leaf(tmp_path: Path) -> None:
    body = bytes(range(256)) * 40
    encoded = base64.encodebytes(body)
    raw = (
        HEAD + b"Content-Type: application/octet-stream\n"
        b"Content-Transfer-Encoding: base64\n\n" + encoded
    )
    assert all_chunks(tmp_path, raw) == [body]
    assert all_chunks(tmp_path, crlf(raw)) == [body]


def test_quoted_printable_leaf(tmp_path: Path) -> None:
    raw = HEAD + (
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: Quoted-Printable\n\n"
        b"caf=C3=A9 soft=\n break, =3D sign\n"
        b"-- \n"
        b"signature\n"
    )
    expected = "café soft break, = sign\n-- \nsignature\n".encode()
    assert all_chunks(tmp_path, raw) == [expected]
    assert email_leaves(raw) == [expected]


def test_7bit_leaf(tmp_path: Path) -> None:
    raw = HEAD + b"Content-Type: text/plain\nContent-Transfer-Encoding: 7bit\n\nplain\ntext\n"
    assert all_chunks(tmp_path, raw) == [b"plain\ntext\n"]


def test_binary_leaf_unencoded(tmp_path: Path) -> None:
    body = b"MZ\x90\x00\x03\x00 not text\n\xff\xfe\n"
    raw = HEAD + b"Content-Type: application/x-msdownload\n\n" + body
    assert all_chunks(tmp_path, raw) == [body]


def test_uuencoded_text_is_written_as_it_is(tmp_path: Path) -> None:
    body = b"see attached\nbegin 644 evil.exe\n#86)C\n`\nend\n"
    raw = HEAD + b"Content-Type: text/plain\n\n" + body
    assert all_chunks(tmp_path, raw) == [body]
    directory = tmp_path / "uu"
    directory.mkdir()
    assert extract(io.BytesIO(raw), str(directory)).found == ["evil.exe"]


# --- structure ----------------------------------------------------------------------

MIXED = b"""From: a@example.org
Subject: mixed
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is the preamble: not a part.
--outer
Content-Type: multipart/alternative; boundary=inner

inner preamble
--inner
Content-Type: text/plain

plain body
--inner
Content-Type: text/html
Content-Transfer-Encoding: quoted-printable

<p>html=20body</p>
--inner--
inner epilogue
--outer
Content-Type: application/octet-stream; name="../../etc/passwd"
Content-Disposition: attachment; filename="/tmp/evil.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA=
--outer
Content-Type: text/plain
Content-Disposition: attachment; filename="part0001"

empty next

--outer
Content-Type: text/plain

--outer--
The epilogue: not a part.
"""


def test_nested_multipart(tmp_path: Path) -> None:
    executable = base64.b64decode(b"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA=")
    expected = [b"plain body", b"<p>html body</p>", executable, b"empty next\n", b""]
    assert email_leaves(MIXED) == expected
    # (the line break before each boundary kept, as ripmime does)
    expected = [b"plain body\n", b"<p>html body</p>\n", executable, b"empty next\n\n", b""]
    assert all_chunks(tmp_path, MIXED) == expected
    assert all_chunks(tmp_path, crlf(MIXED)) == [
        b"plain body\r\n",
        b"<p>html body</p>\r\n",
        executable,
        b"empty next\r\n\r\n",
        b"",
    ]


def test_line_break_before_the_boundary(tmp_path: Path) -> None:
    """As ripmime wrote a part for the C simscan: every line up to the
    boundary line, each with its line break."""
    raw = HEAD + (
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\n\nno blank line\n"
        b"--b\n\nblank line\n\n"
        b"--b\nContent-Transfer-Encoding: quoted-printable\n\nsoft break=\n"
        b"--b\nContent-Transfer-Encoding: quoted-printable\n\nhard break\n"
        b"--b\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(b"exact\n")
        + b"\n--b--\n"
    )
    assert all_chunks(tmp_path, raw) == [
        b"no blank line\n",
        b"blank line\n\n",
        b"soft break",
        b"hard break\n",
        b"exact\n",
    ]


def test_never_the_senders_names(tmp_path: Path) -> None:
    """Files are named by counting, whatever names the message gives."""
    directory = tmp_path / "work"
    directory.mkdir()
    names = extract(io.BytesIO(MIXED), str(directory))
    assert sorted(os.listdir(directory)) == [f"part{i:04d}" for i in range(1, 6)]
    assert sorted(os.listdir(tmp_path)) == ["work"]  # nothing outside it
    # the names were seen (for logging or blocking), not used
    assert "/tmp/evil.exe" in names.found
    assert "../../etc/passwd" in names.found


def test_message_rfc822_attached(tmp_path: Path) -> None:
    inner = EmailMessage()
    inner["Subject"] = "inner"
    inner.set_content("inner text\n")
    inner.add_attachment(
        b"\x00inner binary\xff", maintype="application", subtype="zip", filename="inner.zip"
    )
    outer = EmailMessage()
    outer["Subject"] = "outer"
    outer.set_content("outer text\n")
    outer.add_attachment(inner)  # message/rfc822, unencoded
    raw = outer.as_bytes()
    assert b"Content-Type: message/rfc822" in raw
    expected = [b"outer text\n", b"inner text\n", b"\x00inner binary\xff"]
    assert email_leaves(raw) == expected
    expected = [b"outer text\n\n", b"inner text\n\n", b"\x00inner binary\xff"]
    assert all_chunks(tmp_path, raw) == expected
    assert email_leaves(raw, ripmime=True) == expected


def test_message_rfc822_base64(tmp_path: Path) -> None:
    """An attached message that is itself base64-encoded: its leaves are
    decoded and written, not the encoded message as one file."""
    inner = (
        b"Subject: inner\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b2"\n\n'
        b"--b2\nContent-Type: text/plain\n\ninner text\n"
        b"--b2\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(b"\x01\x02payload\x03" * 50)
        + b"--b2--\n"
    )
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="b1"\n\n'
        b"--b1\nContent-Type: text/plain\n\nouter text\n"
        b"--b1\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(inner)
        + b"--b1--\n"
    )
    assert all_chunks(tmp_path, raw) == [
        b"outer text\n",
        b"inner text\n",
        b"\x01\x02payload\x03" * 50,
    ]


def test_message_rfc822_quoted_printable(tmp_path: Path) -> None:
    inner = b"Subject: inner\n\ninner body=\n joined\n"
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="b1"\n\n'
        b"--b1\nContent-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
        + inner
        + b"--b1--\n"
    )
    assert all_chunks(tmp_path, raw) == [b"inner body joined\n"]


def test_digest_parts_are_messages(tmp_path: Path) -> None:
    raw = HEAD + (
        b'Content-Type: multipart/digest; boundary="d"\n\n'
        b"--d\n\nSubject: one\n\nfirst\n"
        b"--d\n\nSubject: two\nContent-Type: text/plain\n\nsecond\n"
        b"--d--\n"
    )
    assert all_chunks(tmp_path, raw) == [b"first\n", b"second\n"]


def test_unclosed_multipart(tmp_path: Path) -> None:
    """A message cut short: the last part runs to the end of the file."""
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n\nfirst\n--b\n\nsecond\n'
    assert all_chunks(tmp_path, raw) == [b"first\n", b"second\n"]


def test_long_lines(tmp_path: Path) -> None:
    body = b"x" * 200_000 + b"\n" + b"y" * 70_000
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n\n' + body + b"\n--b--\n"
    assert all_chunks(tmp_path, raw) == [body + b"\n"]
    encoded = base64.b64encode(body)  # one very long base64 line
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Transfer-Encoding: base64\nContent-Type: image/png\n\n"
        + encoded
        + b"\n--b--\n"
    )
    assert all_chunks(tmp_path, raw) == [body]


# --- against the email package --------------------------------------------------------


def built_messages() -> list[EmailMessage]:
    messages = []

    m = EmailMessage()
    m["From"] = "a@example.org"
    m["Subject"] = "alternative and attachments"
    m.set_content("hello world\nline two\n")
    m.add_alternative("<p>caf\u00e9 " + "x" * 100 + "</p>\n", subtype="html")
    m.add_attachment(
        bytes(range(256)) * 20, maintype="application", subtype="octet-stream", filename="a.exe"
    )
    m.add_attachment("plain text attachment\nno final newline", filename="notes.txt")
    m.add_attachment("trailing blank lines\n\n\n", filename="blank.txt")
    messages.append(m)

    m = EmailMessage()
    m["Subject"] = "single base64 leaf"
    m.set_content(b"\x00\x01\x02" * 1000 + b"\n", maintype="application", subtype="pdf")
    messages.append(m)

    m = EmailMessage()
    m["Subject"] = "single quoted-printable leaf"
    m.set_content("\u00e9t\u00e9 " * 50 + "\n-- \nsig\n", cte="quoted-printable")
    messages.append(m)

    m = EmailMessage()
    m["Subject"] = "text in base64"
    m.set_content("\u3053\u3093\u306b\u3061\u306f\n" * 30, cte="base64")
    m.add_attachment(b"", maintype="application", subtype="octet-stream", filename="empty")
    m.add_attachment("=?q?= looks encoded\n", filename="q.txt", cte="quoted-printable")
    messages.append(m)

    return messages


@pytest.mark.parametrize("index", range(len(built_messages())))
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_against_email_package(tmp_path: Path, index: int, linesep: str) -> None:
    message = built_messages()[index]
    raw = message.as_bytes(policy=message.policy.clone(linesep=linesep))
    assert all_chunks(tmp_path, raw) == email_leaves(raw, ripmime=True)


# --- limits and errors -----------------------------------------------------------------


def test_part_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mime, "MAX_FILES", 2)
    directory = tmp_path / "work"
    directory.mkdir()
    names = extract(io.BytesIO(MIXED), str(directory))
    # Past the limit the parts share one file: nothing is left out.
    rest = (directory / "part-rest").read_bytes()
    (directory / "part-rest").unlink()
    assert parts(directory) == [b"plain body\n", b"<p>html body</p>\n"]
    assert rest.startswith(base64.b64decode(b"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA="))
    assert len(rest) > 32
    assert names.truncated == []
    assert "/tmp/evil.exe" in names.found  # the walk went on


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        extract(io.BytesIO(MIXED), str(tmp_path / "nowhere"))


def test_existing_part_file_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "part0001").write_bytes(b"already here")
    with pytest.raises(FileExistsError):
        extract(io.BytesIO(MIXED), str(tmp_path))
    assert (tmp_path / "part0001").read_bytes() == b"already here"


def test_attachment_names_unchanged_by_extract(tmp_path: Path) -> None:
    directory = tmp_path / "work"
    directory.mkdir()
    found = extract(io.BytesIO(MIXED), str(directory)).found
    assert found == mime.attachment_names(io.BytesIO(MIXED))
