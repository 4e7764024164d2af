"""Regenerate the attachment-name test corpus in this directory.

Run it with any Python 3.11+ from anywhere:

    python3 tests/data/attachments/make_corpus.py

It rewrites every ``NN-*.eml`` message and ``expected.toml`` (the manifest:
message file name -> every attachment file name a tolerant MIME walker must
report, decoded as a mail client would show it).  The output is fully
deterministic: the only randomness (case 31's binary garbage) comes from a
generator with a fixed seed, and every encoded body is produced with the
standard library's base64 / binascii / quopri encoders, so the data is real.

Conventions used throughout the corpus:

* No message lists the same name twice (a part never carries the same value
  in both ``name=`` and ``filename=``), so the manifest can be compared as a
  set or as a sorted list.
* No boundary is a prefix of another boundary in the same message, and no
  body line starts with ``--<boundary>`` unless it is meant as a delimiter,
  so prefix matching (RFC 2046 5.1.1) and exact-line matching (the stdlib)
  agree everywhere.
* uuencode rule: a line that starts with ``begin `` followed by 3 or 4 octal
  digits (Thunderbird) or a number from 1 to 777 (ripmime), a space and a
  name; ``begin-base64 `` likewise for uuencode -m.
"""

from __future__ import annotations

import base64
import binascii
import json
import quopri
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------
# payloads


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\xb8"
    + bytes(7)
    + b"@"
    + bytes(35)
    + b"\x0e\x1f\xba\x0e\x00\xb4\t\xcd!\xb8\x01L\xcd!"
    + b"This program cannot be run in DOS mode.\r\r\n$"
    + bytes(range(256))
)
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
ZIP = b"PK\x05\x06" + bytes(18)  # an empty but valid zip archive
PNG = _png_1x1()
SCRIPT = b'WScript.Echo "corpus test payload"\r\n'
TEXT = b"Just some attached text.\nNothing to see here.\n"


def b64(data: bytes) -> str:
    """Base64 body text, 76-column lines, ending with a newline."""
    return base64.encodebytes(data).decode("ascii")


def uu_lines(data: bytes, mode: str, name: str) -> str:
    """A classic uuencode block (backtick for zero, like GNU uuencode)."""
    out = [f"begin {mode} {name}\n"]
    for i in range(0, len(data), 45):
        out.append(binascii.b2a_uu(data[i : i + 45], backtick=True).decode("ascii"))
    out.append("`\nend\n")
    return "".join(out)


def uu_base64_lines(data: bytes, mode: str, name: str) -> str:
    """A uuencode -m block: begin-base64, base64 lines, ====."""
    return f"begin-base64 {mode} {name}\n" + b64(data) + "====\n"


def qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def head(n: int, subject: str, *extra: str, mime: bool = True) -> str:
    lines = [
        "Return-Path: <alice@example.org>",
        "From: Alice Example <alice@example.org>",
        "To: Bob Example <bob@example.net>",
        f"Subject: {subject}",
        f"Date: Mon, 03 Mar 2025 10:{n:02d}:00 +0000",
        f"Message-ID: <corpus-{n:02d}@example.org>",
    ]
    if mime:
        lines.append("MIME-Version: 1.0")
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def text_part(body: str = "Hello Bob,\n\nsee the attachment.\n") -> str:
    return "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n" + body


def multipart(
    boundary: str, parts: list[str], *, close: bool = True, preamble: str = "", epilogue: str = ""
) -> str:
    """Body of a multipart entity: every part ends with a newline."""
    out = [preamble]
    for p in parts:
        out.append(f"--{boundary}\n{p}")
        if not p.endswith("\n"):
            out.append("\n")
    if close:
        out.append(f"--{boundary}--\n")
        out.append(epilogue)
    return "".join(out)


def attachment(headers: str, data: bytes) -> str:
    """A base64 part; headers is one or more header lines without a trailing newline."""
    return headers + "\nContent-Transfer-Encoding: base64\n\n" + b64(data)


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


# --------------------------------------------------------------------------
# the cases: each returns (raw bytes, expected names, note)

Case = tuple[bytes, list[str], str]


def c01() -> Case:
    msg = head(1, "Quarterly report", 'Content-Type: multipart/mixed; boundary="b01-mixed"')
    msg += "\n" + multipart(
        "b01-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/pdf\n"
                'Content-Disposition: attachment; filename="report.pdf"',
                PDF,
            ),
        ],
    )
    return (
        crlf(msg).encode("ascii"),
        ["report.pdf"],
        "Content-Disposition filename, quoted; CRLF line endings",
    )


def c02() -> Case:
    msg = head(2, "Installer", 'Content-Type: multipart/mixed; boundary="b02-mixed"')
    msg += "\n" + multipart(
        "b02-mixed",
        [
            text_part(),
            attachment("Content-Type: application/x-msdownload; name=setup.exe", EXE),
        ],
    )
    return (
        msg.encode("ascii"),
        ["setup.exe"],
        "Content-Type name= only, unquoted token, no Content-Disposition header",
    )


def c03() -> Case:
    msg = head(3, "Holiday photo", 'Content-Type: multipart/mixed; boundary="b03-mixed"')
    msg += "\n" + multipart(
        "b03-mixed",
        [
            text_part(),
            'Content-Disposition: attachment; filename="photo.jpg"\n'
            'Content-Type: image/jpeg; name="photo.jpg.scr"\n'
            "Content-Transfer-Encoding: base64\n\n" + b64(EXE),
        ],
    )
    return (
        msg.encode("ascii"),
        ["photo.jpg", "photo.jpg.scr"],
        "one part with filename= and a different name= (Content-Disposition comes first); "
        "both must be reported",
    )


def c04() -> Case:
    msg = head(4, "Rates", 'Content-Type: multipart/mixed; boundary="b04-mixed"')
    msg += "\n" + multipart(
        "b04-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/octet-stream\n"
                "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.exe",
                EXE,
            ),
        ],
    )
    return (
        crlf(msg).encode("ascii"),
        ["\u20ac rates.exe"],
        "RFC 2231 extended value with charset, percent-encoded euro sign and space; CRLF",
    )


def c05() -> Case:
    msg = head(5, "Screensaver", 'Content-Type: multipart/mixed; boundary="b05-mixed"')
    msg += "\n" + multipart(
        "b05-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/octet-stream\n"
                "Content-Disposition: attachment;\n"
                ' filename*0="very";\n'
                ' filename*1="long";\n'
                ' filename*2=".scr"',
                EXE,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        ["verylong.scr"],
        "RFC 2231 continuations *0 *1 *2 (quoted, not encoded), each on a folded line",
    )


def c06() -> Case:
    msg = head(6, "Deja vu", 'Content-Type: multipart/mixed; boundary="b06-mixed"')
    msg += "\n" + multipart(
        "b06-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/octet-stream\n"
                "Content-Disposition: attachment;\n"
                " filename*0*=UTF-8''d%C3%A9j%C3%A0;\n"
                " filename*1*=%20vu.bat",
                b"@echo off\r\necho corpus\r\n",
            ),
        ],
    )
    return (
        crlf(msg).encode("ascii"),
        ["d\u00e9j\u00e0 vu.bat"],
        "RFC 2231 encoded continuations *0* (with charset) and *1*; CRLF",
    )


def c07() -> Case:
    word = "=?UTF-8?B?" + base64.b64encode("r\u00e9sum\u00e9.exe".encode()).decode() + "?="
    msg = head(7, "CV", 'Content-Type: multipart/mixed; boundary="b07-mixed"')
    msg += "\n" + multipart(
        "b07-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/octet-stream\n"
                f'Content-Disposition: attachment; filename="{word}"',
                EXE,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        ["r\u00e9sum\u00e9.exe"],
        "RFC 2047 B encoded word inside a quoted filename (not RFC-conformant but what "
        "Outlook/Gmail send; every client decodes it); stdlib get_filename returns it raw",
    )


def c08() -> Case:
    msg = head(8, "Factura", 'Content-Type: multipart/mixed; boundary="b08-mixed"')
    msg += "\n" + multipart(
        "b08-mixed",
        [
            text_part(),
            attachment('Content-Type: application/zip; name="=?ISO-8859-1?Q?f=E4ctura.zip?="', ZIP),
        ],
    )
    return (
        msg.encode("ascii"),
        ["f\u00e4ctura.zip"],
        "RFC 2047 Q encoded word, ISO-8859-1, in a quoted Content-Type name=; no "
        "Content-Disposition",
    )


def c09() -> Case:
    msg = head(9, "Macros", 'Content-Type: multipart/mixed;\n\tboundary="b09-mixed"')
    msg += "\n" + multipart(
        "b09-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/vnd.ms-word.document.macroEnabled.12\n"
                "Content-Disposition: attachment;\n"
                '\tfilename="folded.docm"',
                ZIP,
            ),
            attachment(
                "Content-Type: application/vnd.ms-excel.sheet.macroEnabled.12;\n"
                '    name="folded2.xlsm"\n'
                "Content-Disposition: attachment",
                ZIP,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        ["folded.docm", "folded2.xlsm"],
        "folded headers: filename= on a tab-indented continuation line; name= on a "
        "space-indented one; the top-level boundary= is folded too",
    )


def c10() -> Case:
    msg = head(10, "SHOUTING", mime=False)
    msg += 'MIME-VERSION: 1.0\nCONTENT-TYPE: MULTIPART/MIXED; BOUNDARY="Case10_MiXeD"\n'
    msg += "\n" + multipart(
        "Case10_MiXeD",
        [
            "content-type: TEXT/PLAIN; CHARSET=US-ASCII\n\nsee attachment\n",
            "content-type: APPLICATION/OCTET-STREAM\n"
            'content-disposition: ATTACHMENT; FileName="FOO.EXE"\n'
            "CONTENT-TRANSFER-ENCODING: BASE64\n\n" + b64(EXE),
        ],
    )
    return (
        msg.encode("ascii"),
        ["FOO.EXE"],
        "upper-case extension (name reported as written) and header/parameter names in "
        "odd case; the boundary value itself is mixed case and must match exactly",
    )


def c11() -> Case:
    msg = head(11, "Invoice (old school)", mime=False)
    msg += (
        "\nHi Bob,\n\nplease find the invoice below.\n\n"
        + uu_lines(EXE, "644", "invoice.exe")
        + "\nRegards,\nAlice\n"
    )
    return (
        msg.encode("ascii"),
        ["invoice.exe"],
        "uuencoded block in a plain non-MIME body (no MIME-Version, no Content-Type)",
    )


def c12() -> Case:
    msg = head(12, "uu inside MIME", 'Content-Type: multipart/mixed; boundary="b12-mixed"')
    msg += "\n" + multipart(
        "b12-mixed",
        [
            text_part(
                "Hello,\n\nthe tool follows:\n\n"
                + uu_lines(EXE, "0644", "uu-in-mime.exe")
                + "\nbye\n"
            ),
            "Content-Type: text/plain; charset=us-ascii\n\nsecond text part, no attachment\n",
        ],
    )
    return (
        msg.encode("ascii"),
        ["uu-in-mime.exe"],
        "uuencoded block inside a 7bit text/plain part of a multipart message; 4-digit mode 0644",
    )


def c13() -> Case:
    inner = "Hello again,\n\nhere it is:\n\n" + uu_lines(EXE, "755", "hidden-uu.exe") + "\ncheers\n"
    msg = head(13, "uu inside base64", 'Content-Type: multipart/mixed; boundary="b13-mixed"')
    msg += "\n" + multipart(
        "b13-mixed",
        [
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n"
            + qp("Caf\u00e9 first, then the real text part.\n"),
            "Content-Type: text/plain; charset=us-ascii\n"
            "Content-Disposition: inline\n"
            "Content-Transfer-Encoding: base64\n\n" + b64(inner.encode("ascii")),
        ],
    )
    return (
        msg.encode("ascii"),
        ["hidden-uu.exe"],
        "uuencoded block inside a base64 text/plain part (no MIME name): the begin line is "
        "only visible after base64-decoding the part",
    )


def c14() -> Case:
    related = multipart(
        "=_rel14_C",
        [
            "Content-Type: text/html; charset=us-ascii\n\n"
            '<html><body><p>Look:</p><img src="cid:deep@corpus.example"></body></html>\n',
            'Content-Type: image/png; name="deep.png"\n'
            "Content-ID: <deep@corpus.example>\n"
            "Content-Transfer-Encoding: base64\n\n" + b64(PNG),
        ],
    )
    alternative = multipart(
        "=_alt14_B",
        [
            text_part("Look: [image]\n"),
            'Content-Type: multipart/related; boundary="=_rel14_C"; type="text/html"\n\n' + related,
        ],
    )
    msg = head(14, "Nested", 'Content-Type: multipart/mixed; boundary="=_mix14_A"')
    msg += "\n" + multipart(
        "=_mix14_A",
        [
            'Content-Type: multipart/alternative; boundary="=_alt14_B"\n\n' + alternative,
            attachment(
                "Content-Type: application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet\n"
                'Content-Disposition: attachment; filename="outer14.xlsx"',
                ZIP,
            ),
        ],
    )
    return (
        crlf(msg).encode("ascii"),
        ["deep.png", "outer14.xlsx"],
        "mixed > (alternative > related > inline image named only by Content-Type name=) "
        "+ attachment; inline parts count too; CRLF",
    )


def _inner_with(n: int, boundary: str, subject: str, att: str) -> str:
    msg = head(n, subject, f'Content-Type: multipart/mixed; boundary="{boundary}"')
    return msg + "\n" + multipart(boundary, [text_part("inner text\n"), att])


def c15() -> Case:
    inner = _inner_with(
        15,
        "b15-inner",
        "Original message",
        attachment(
            'Content-Type: text/vbscript\nContent-Disposition: attachment; filename="inner.vbs"',
            SCRIPT,
        ),
    )
    msg = head(15, "Fwd: Original message", 'Content-Type: multipart/mixed; boundary="b15-outer"')
    msg += "\n" + multipart(
        "b15-outer",
        [
            text_part("Forwarding this.\n"),
            "Content-Type: message/rfc822\nContent-Disposition: inline\n\n" + inner,
        ],
    )
    return (
        msg.encode("ascii"),
        ["inner.vbs"],
        "message/rfc822 part (itself unnamed) whose inner message has an attachment",
    )


def c16() -> Case:
    innermost = _inner_with(
        16,
        "b16-level3",
        "Payload",
        attachment(
            "Content-Type: application/javascript\n"
            'Content-Disposition: attachment; filename="payload.js"',
            SCRIPT,
        ),
    )
    middle = head(16, "Fwd: Payload", 'Content-Type: multipart/mixed; boundary="b16-level2"')
    middle += "\n" + multipart(
        "b16-level2",
        [
            text_part("first forward\n"),
            "Content-Type: message/rfc822\n\n" + innermost,
        ],
    )
    msg = head(16, "Fwd: Fwd: Payload", 'Content-Type: multipart/mixed; boundary="b16-level1"')
    msg += "\n" + multipart(
        "b16-level1",
        [
            text_part("second forward\n"),
            'Content-Type: message/rfc822; name="fw-outer.eml"\n'
            "Content-Disposition: attachment\n\n" + middle,
        ],
    )
    return (
        msg.encode("ascii"),
        ["fw-outer.eml", "payload.js"],
        "message/rfc822 two levels deep; the outer rfc822 part is itself named "
        "fw-outer.eml (Content-Type name=), the inner one is not",
    )


def c17() -> Case:
    inner = crlf(
        _inner_with(
            17,
            "b17-inner",
            "Hidden",
            attachment(
                "Content-Type: application/octet-stream\n"
                'Content-Disposition: attachment; filename="hidden.cmd"',
                b"@echo off\r\ndel /q *\r\n",
            ),
        )
    )
    msg = head(17, "Fwd: Hidden", 'Content-Type: multipart/mixed; boundary="b17-outer"')
    msg += "\n" + multipart(
        "b17-outer",
        [
            text_part("Forwarded as an encoded message.\n"),
            "Content-Type: message/rfc822\n"
            "Content-Transfer-Encoding: base64\n"
            "Content-Disposition: inline\n\n" + b64(inner.encode("ascii")),
        ],
    )
    return (
        crlf(msg).encode("ascii"),
        ["hidden.cmd"],
        "message/rfc822 with Content-Transfer-Encoding base64 (forbidden by RFC 2046 5.2.1 "
        "but seen in the wild): decode, then walk the inner message; CRLF, inner CRLF too",
    )


def c18() -> Case:
    msg = head(18, "No boundary", "Content-Type: multipart/mixed")
    msg += "\n" + multipart(
        "lost18",
        [
            text_part(),
            attachment(
                "Content-Type: application/octet-stream\n"
                'Content-Disposition: attachment; filename="lost.exe"',
                EXE,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        [],
        "multipart/mixed without a boundary parameter: must not crash; the body cannot be "
        "split (the stdlib treats it as one text payload and records "
        "NoBoundaryInMultipartDefect; clients show no attachment), so lost.exe inside it is "
        "not expected; guessing the boundary from the first --line is out of scope",
    )


def c19() -> Case:
    msg = head(19, "Unclosed", 'Content-Type: multipart/mixed; boundary="open19"')
    msg += "\n" + multipart(
        "open19",
        [
            text_part(),
            attachment('Content-Type: application/zip; name="unclosed.zip"', ZIP),
        ],
        close=False,
    )
    return (
        msg.encode("ascii"),
        ["unclosed.zip"],
        "final --open19-- delimiter missing; the last part runs to end of file and its "
        "name must still be reported",
    )


def c20() -> Case:
    broken = (
        "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQ!!!AAAAAAAAAAAA*&^%$\n"
        "@@@@ not base64 at all @@@@\n"
        "QUJD=RUZH==\n"
        "A===\n"
        "TWFu\x7f\x1b\n"
    )
    msg = head(20, "Broken base64", 'Content-Type: multipart/mixed; boundary="b20-mixed"')
    msg += "\n" + multipart(
        "b20-mixed",
        [
            text_part(),
            'Content-Type: application/octet-stream; name="broken.exe"\n'
            "Content-Transfer-Encoding: base64\n\n" + broken,
            "Content-Type: text/plain\n"
            'Content-Disposition: attachment; filename="after20.txt"\n\n' + TEXT.decode(),
        ],
    )
    return (
        msg.encode("ascii"),
        ["broken.exe", "after20.txt"],
        "base64 body with invalid characters, padding in the middle, a lone 'A===' and "
        "control bytes: the header name must still be found and the walk must go on to "
        "the next part",
    )


def c21() -> Case:
    msg = head(
        21,
        "Huge header",
        "X-Junk: " + "A" * 200_000,
        'Content-Type: multipart/mixed; boundary="b21-mixed"',
    )
    msg += "\n" + multipart(
        "b21-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/pdf\n"
                'Content-Disposition: attachment; filename="afterhuge.pdf"',
                PDF,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        ["afterhuge.pdf"],
        "a single unfolded 200 008-byte top-level header line (X-Junk) before Content-Type; "
        "the attachment after it must be found",
    )


B22 = "b'o(u)n+d_a,r-y.w/i:t=h? spaces z"


def c22() -> Case:
    msg = head(22, "Odd boundary", f'Content-Type: multipart/mixed;\n boundary="{B22}"')
    msg += "\n" + multipart(
        B22,
        [
            text_part(),
            attachment(
                "Content-Type: application/msword\n"
                'Content-Disposition: attachment; filename="special.doc"',
                ZIP,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        ["special.doc"],
        "quoted boundary using every RFC 2046 bchars special: ' ( ) + _ , - . / : = ? and spaces",
    )


def c23() -> Case:
    bnd = "qp23-boundary-7f3a"
    # Hand-built quoted-printable: every line is valid QP.  The raw lines only look like
    # the boundary; two of them decode to it (=2D=2D..., and a soft line break).
    qp_body = (
        "Caf=C3=A9 notes. The lines below merely look like MIME boundaries.\n"
        "--qp23-boundary-7f\n"
        "--qp23-other-boundary\n"
        "=2D=2Dqp23-boundary-7f3a\n"
        "--qp23-boundary-=\n"
        "7f3a\n"
        'Content-Type: application/octet-stream; name=3D"fake23.exe"\n'
        'Content-Disposition: attachment; filename=3D"fake23.exe"\n'
        "\n"
        "This is still the same text part.\n"
    )
    # sanity: the decoded text does contain the boundary line, the raw text does not
    decoded = quopri.decodestring(qp_body.encode()).decode("utf-8")
    assert f"\n--{bnd}\n" in decoded
    assert f"--{bnd}" not in qp_body
    msg = head(23, "QP lookalikes", f'Content-Type: multipart/mixed; boundary="{bnd}"')
    msg += "\n" + multipart(
        bnd,
        [
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + qp_body,
            attachment(
                "Content-Type: application/pdf\n"
                'Content-Disposition: attachment; filename="real23.pdf"',
                PDF,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        ["real23.pdf"],
        "quoted-printable text part with lines that look like the boundary but are not "
        "(shorter prefix, other boundary, =2D=2D-encoded, split by a soft line break) "
        "followed by header-like lines naming fake23.exe; boundaries are found on raw lines, "
        "so the part must not split and fake23.exe must NOT be reported",
    )


def c24() -> Case:
    preamble = (
        "This is a multi-part message in MIME format.\n"
        'Content-Type: application/octet-stream; name="preamble.exe"\n'
        'Content-Disposition: attachment; filename="preamble.exe"\n'
        "\n"
        "TVqQAAMAAAAEAAAA\n"
        "\n"
    )
    epilogue = (
        "\n"
        'Content-Type: application/x-msdownload; name="epilogue.exe"\n'
        'Content-Disposition: attachment; filename="epilogue.exe"\n'
        "\n"
        "TVqQAAMAAAAEAAAA\n"
    )
    msg = head(24, "Preamble and epilogue", 'Content-Type: multipart/mixed; boundary="b24-mixed"')
    msg += "\n" + multipart(
        "b24-mixed",
        [
            text_part(),
            "Content-Type: text/plain; charset=us-ascii\n"
            'Content-Disposition: attachment; filename="real24.txt"\n\n' + TEXT.decode(),
        ],
        preamble=preamble,
        epilogue=epilogue,
    )
    return (
        msg.encode("ascii"),
        ["real24.txt"],
        "preamble and epilogue contain header-like lines with name=/filename= "
        "(preamble.exe, epilogue.exe); they are not parts and must NOT be reported",
    )


def c25() -> Case:
    msg = head(25, "Lunch?", 'Content-Type: multipart/alternative; boundary="b25-alt"')
    msg += "\n" + multipart(
        "b25-alt",
        [
            text_part("Lunch at noon? The menu is menu.pdf but I did not attach it.\n"),
            "Content-Type: text/html; charset=us-ascii\n\n"
            "<html><body><p>Lunch at noon?</p></body></html>\n",
        ],
    )
    return (msg.encode("ascii"), [], "clean multipart/alternative, no attachment at all")


def c26() -> Case:
    prose = (
        "Hi team,\n\n"
        "Let us begin 644 tasks today.\n"
        "begin 644\n"
        "begin 999 notoctal.exe\n"
        "begin 64 short.exe\n"
        "begin 64444 toolong.exe\n"
        "begin644 nospace.exe\n"
        "beginning 644 words.exe\n"
        " begin 644 indented.exe\n"
        "> begin 644 quoted.exe\n"
        "\nThanks\n"
    )
    msg = head(26, "Planning", 'Content-Type: multipart/mixed; boundary="b26-mixed"')
    msg += "\n" + multipart("b26-mixed", [text_part(prose)])
    return (
        msg.encode("ascii"),
        ["short.exe"],
        "text/plain with near-miss uuencode begin lines: only 'begin 64 short.exe' is one "
        "(ripmime takes a mode from 1 to 777; Thunderbird wants 3-4 octal digits); "
        "prose, no name, 999, 64444, no space, 'beginning', leading space and '> ' are not",
    )


def c27() -> Case:
    msg = head(27, "Trailing junk", 'Content-Type: multipart/mixed; boundary="b27-mixed"')
    msg += "\n" + multipart(
        "b27-mixed",
        [
            text_part(),
            attachment(
                "Content-Type: application/octet-stream\n"
                'Content-Disposition: attachment; filename="evil.exe."',
                EXE,
            ),
            attachment(
                "Content-Type: application/octet-stream\n"
                'Content-Disposition: attachment; filename="evil2.exe  "',
                EXE,
            ),
        ],
    )
    return (
        msg.encode("ascii"),
        ["evil.exe.", "evil2.exe  "],
        "trailing dot and two trailing spaces inside the quotes; reported exactly as "
        "between the quotes (Windows would strip them, so an extension check must too, "
        "but the walker reports them raw)",
    )


def c28() -> Case:
    msg = head(28, "CRLF", 'Content-Type: multipart/mixed; boundary="b28-mixed"')
    msg += "\n" + multipart(
        "b28-mixed",
        [
            "Content-Type: text/plain; charset=us-ascii\n"
            "Content-Transfer-Encoding: quoted-printable\n\n"
            + qp("Hello,\nevery line in this file ends in CRLF, including base64 lines.\n"),
            attachment('Content-Type: application/msword; name="crlf28.doc"', ZIP),
            "Content-Type: text/plain; charset=us-ascii\n\n"
            + uu_lines(EXE, "644", "never-seen.exe").replace("begin 644 ", "Begin at 644 "),
        ],
    )
    return (
        crlf(msg).encode("ascii"),
        ["crlf28.doc"],
        "CRLF line endings throughout (headers, boundaries, base64, QP); the last text "
        "part has uu data lines but its opening line is 'Begin at 644', not a begin line",
    )


def c29() -> Case:
    depth = 30
    body = multipart(
        f"lvl{depth:02d}",
        [
            text_part("bottom\n"),
            attachment(
                "Content-Type: application/octet-stream\n"
                'Content-Disposition: attachment; filename="deep.exe"',
                EXE,
            ),
        ],
    )
    for level in range(depth - 1, 0, -1):
        body = multipart(
            f"lvl{level:02d}",
            [
                f'Content-Type: multipart/mixed; boundary="lvl{level + 1:02d}"\n\n' + body,
            ],
        )
    msg = head(29, "Deep", 'Content-Type: multipart/mixed; boundary="lvl01"')
    return (
        crlf(msg + "\n" + body).encode("ascii"),
        ["deep.exe"],
        "30 nested multipart/mixed (the top level is level 1, boundaries lvl01..lvl30); "
        "deep.exe at the bottom; CRLF",
    )


def c30() -> Case:
    msg = head(30, "Mismatched names", 'Content-Type: multipart/mixed; boundary="b30-mixed"')
    msg += "\n" + multipart(
        "b30-mixed",
        [
            text_part(),
            attachment(
                'Content-Type: application/octet-stream; name="a.txt"\n'
                'Content-Disposition: attachment; filename="b.exe"',
                EXE,
            ),
        ],
    )
    return (
        crlf(msg).encode("ascii"),
        ["a.txt", "b.exe"],
        "Content-Type name=a.txt but Content-Disposition filename=b.exe: both reported; CRLF",
    )


def c31() -> Case:
    rng = random.Random(31)
    pool = bytes(b for b in range(256) if b not in (0x0A, 0x0D))
    lines = []
    for _ in range(24):
        line = bytes(rng.choice(pool) for _ in range(64))
        # the first byte of a line is a NUL or a high byte, so no line can start a
        # boundary, a header or a begin line
        line = bytes([rng.choice([0x00, *range(0x80, 0x100)])]) + line
        lines.append(line)
    garbage = b"\x00\x00\x00" + b"\n".join(lines) + b"\n"
    msg = head(31, "Garbage", 'Content-Type: multipart/mixed; boundary="b31-mixed"')
    raw = (
        msg + "\n--b31-mixed\n"
        "Content-Type: text/plain; charset=unknown-8bit\n"
        "Content-Transfer-Encoding: binary\n\n"
    ).encode("ascii")
    raw += garbage
    raw += (
        "--b31-mixed\n"
        + attachment(
            "Content-Type: application/octet-stream\n"
            'Content-Disposition: attachment; filename="garbage31.exe"',
            EXE,
        )
        + "--b31-mixed--\n"
    ).encode("ascii")
    return (
        raw,
        ["garbage31.exe"],
        "first part is a text/plain part of binary garbage with NUL bytes and random high "
        "bytes (seeded); the proper attachment after it must be found",
    )


def c32() -> Case:
    msg = head(32, "uuencode -m", "Content-Type: text/plain; charset=us-ascii")
    msg += (
        "\nHere is the tool, made with uuencode -m:\n\n"
        + uu_base64_lines(EXE, "644", "x.exe")
        + "\nbye\n"
    )
    return (
        msg.encode("ascii"),
        ["x.exe"],
        "'begin-base64 644 x.exe' block (uuencode -m) in a single-part text/plain body, "
        "ending with ====",
    )


CASES: list[tuple[str, Callable[[], Case]]] = [
    ("01-plain-disposition.eml", c01),
    ("02-type-name-token.eml", c02),
    ("03-filename-and-name-differ.eml", c03),
    ("04-rfc2231-charset.eml", c04),
    ("05-rfc2231-continuations.eml", c05),
    ("06-rfc2231-encoded-continuations.eml", c06),
    ("07-rfc2047-b-in-quoted-filename.eml", c07),
    ("08-rfc2047-q-latin1-name.eml", c08),
    ("09-folded-headers.eml", c09),
    ("10-upper-case-names.eml", c10),
    ("11-uuencode-non-mime.eml", c11),
    ("12-uuencode-in-text-part.eml", c12),
    ("13-uuencode-in-base64-part.eml", c13),
    ("14-nested-multipart.eml", c14),
    ("15-rfc822-attachment.eml", c15),
    ("16-rfc822-two-levels.eml", c16),
    ("17-rfc822-base64-encoded.eml", c17),
    ("18-missing-boundary.eml", c18),
    ("19-unclosed-boundary.eml", c19),
    ("20-broken-base64.eml", c20),
    ("21-huge-header.eml", c21),
    ("22-special-boundary.eml", c22),
    ("23-qp-boundary-lookalikes.eml", c23),
    ("24-preamble-epilogue.eml", c24),
    ("25-clean-no-attachment.eml", c25),
    ("26-begin-644-in-prose.eml", c26),
    ("27-trailing-dot-and-spaces.eml", c27),
    ("28-crlf-throughout.eml", c28),
    ("29-deep-nesting.eml", c29),
    ("30-name-vs-filename.eml", c30),
    ("31-binary-garbage.eml", c31),
    ("32-uuencode-base64.eml", c32),
]


def toml_str(s: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes
    return json.dumps(s, ensure_ascii=False)


def main() -> None:
    for old in HERE.glob("[0-9][0-9]-*.eml"):
        old.unlink()
    manifest = [
        "# file name -> every attachment file name the walker must report (order irrelevant)",
        "# Generated by make_corpus.py; edit that script, not this file.",
        "# No message lists the same name twice, so compare as sets or sorted lists.",
    ]
    for filename, make in CASES:
        raw, names, note = make()
        (HERE / filename).write_bytes(raw)
        manifest.append("")
        manifest.append(f"[{toml_str(filename)}]")
        manifest.append("names = [" + ", ".join(toml_str(n) for n in names) + "]")
        manifest.append(f"note = {toml_str(note)}")
    (HERE / "expected.toml").write_text("\n".join(manifest) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
