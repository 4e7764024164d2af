"""Differential property test: every attachment name Python's email package
finds (compat32 and default policies; get_filename() and Content-Type's
`name`; in attached messages too, encoded ones and *.eml parts decoded) is
among the names the walker finds, on generated and mutated MIME messages
built from the classes of evasion.

SIMSCAN_DIFF_EXAMPLES sets the number of examples (CI: 300).
"""

import base64
import email
import email.message
import email.policy
import email.utils
import io
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simscan.mail.mime import attachment_names

EXAMPLES = int(os.environ.get("SIMSCAN_DIFF_EXAMPLES", "300"))

# --- generating ---------------------------------------------------------------------

_ALPHABET = "abcXYZ019 ._-()[]é€日ü'"
names = st.text(_ALPHABET, min_size=1, max_size=24).filter(lambda n: n.strip(" ") != "")


def _token(name: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "._-") for c in name)


def _pct(data: bytes) -> str:
    return "".join(
        chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in "._-") else f"%{b:02X}" for b in data
    )


@st.composite
def param(draw: st.DrawFn, key: str, name: str) -> str:
    """One way to write `key=name` (possibly several parameters)."""
    forms = ["quoted", "rfc2231", "continuations", "rfc2047", "junk"]
    if _token(name):
        forms.append("token")
    if name.isascii():
        forms.append("unquoted")
    form = draw(st.sampled_from(forms))
    if form == "token":
        return f"{key}={name}"
    if form == "unquoted":
        return f"{key}={name}"
    if form == "quoted":
        return f'{key}="' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if form == "rfc2231":
        return f"{key}*=utf-8''{_pct(name.encode())}"
    if form == "continuations":
        data = name.encode()
        cuts = sorted(draw(st.sets(st.integers(1, max(len(data) - 1, 1)), max_size=3)))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        out = []
        for i, piece in enumerate(pieces):
            if i == 0:
                out.append(f"{key}*0*=utf-8''{_pct(piece)}")
            else:
                out.append(f"{key}*{i}*={_pct(piece)}")
        if draw(st.booleans()):
            out.reverse()
        return "; ".join(out)
    if form == "rfc2047":
        kind = draw(st.sampled_from(["B", "Q"]))
        data = name.encode()
        if kind == "B":
            text = base64.b64encode(data).decode()
        else:
            text = "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in data)
        cut = draw(st.integers(0, len(text)))
        words = [t for t in (text[:cut], text[cut:]) if t]
        encoded = " ".join(f"=?utf-8?{kind}?{w}?=" for w in words)
        return f'{key}="{encoded}"'
    # junk: an unquoted value with something after it
    junk = draw(st.sampled_from([" junk", " (1)", "; x=y", ""]))
    if not _token(name):
        return f'{key}="' + name.replace("\\", "\\\\").replace('"', '\\"') + '"' + junk
    return f"{key}={name}{junk}"


@st.composite
def attachment(draw: st.DrawFn) -> tuple[str, str]:
    """(headers, body) of a part that names a file."""
    name = draw(names)
    where = draw(st.sampled_from(["disposition", "type", "both", "two"]))
    sep = draw(st.sampled_from(["; ", ";", ";\n\t"]))
    headers = []
    ctype = "application/octet-stream"
    disposition = draw(st.sampled_from(["attachment", "inline", "attachment"]))
    if where in ("type", "both"):
        ctype += sep + draw(param("name", name))
    if where in ("disposition", "both", "two"):
        headers.append(f"Content-Disposition: {disposition}{sep}" + draw(param("filename", name)))
    if where == "two":
        headers.append(
            f"Content-Disposition: {disposition}{sep}" + draw(param("filename", draw(names)))
        )
    headers.insert(0, f"Content-Type: {ctype}")
    headers.append("Content-Transfer-Encoding: base64")
    return "\n".join(headers), "TVqQAAMAAAAEAAAA\n"


@st.composite
def entity(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """(headers, body) of some MIME entity."""
    kinds = ["attachment", "text"]
    if depth < 3:
        kinds += ["multipart", "message", "message-b64", "eml"]
    kind = draw(st.sampled_from(kinds))
    if kind == "attachment":
        return draw(attachment())
    if kind == "text":
        return "Content-Type: text/plain; charset=utf-8", "hello\n"
    if kind == "multipart":
        boundary = draw(st.sampled_from(["b1", "=_Part_2", "xyz 3", "----=_NextPart"]))
        boundary += str(depth)
        parts = draw(st.lists(entity(depth + 1), min_size=1, max_size=3))
        pad = draw(st.sampled_from(["", " ", "\t "]))
        body = "".join(f"--{boundary}{pad}\n{h}\n\n{b}\n" for h, b in parts)
        body += f"--{boundary}--\n"
        subtype = draw(st.sampled_from(["mixed", "alternative", "related"]))
        return f'Content-Type: multipart/{subtype}; boundary="{boundary}"', body
    inner_headers, inner_body = draw(entity(depth + 1))
    inner = f"From: x@example.org\nMIME-Version: 1.0\n{inner_headers}\n\n{inner_body}"
    if kind == "message":
        subtype = draw(st.sampled_from(["rfc822", "news", "global"]))
        return f"Content-Type: message/{subtype}", inner
    if kind == "message-b64":
        encoded = base64.encodebytes(inner.encode()).decode()
        return "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64", encoded
    encoded = base64.encodebytes(inner.encode()).decode()
    return (
        "Content-Type: application/octet-stream; name=fwd.eml\n"
        "Content-Disposition: attachment; filename=fwd.eml\n"
        "Content-Transfer-Encoding: base64"
    ), encoded


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    headers, body = draw(entity())
    text = f"From: a@example.org\nTo: b@example.net\nMIME-Version: 1.0\n{headers}\n\n{body}"
    end = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    if end == "mixed":
        lines = text.split("\n")
        choice = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines),
                               max_size=len(lines)))  # fmt: skip
        text = "".join(line + e for line, e in zip(lines, choice, strict=True))
    else:
        text = text.replace("\n", end)
    return text.encode("utf-8")


# --- the oracle ------------------------------------------------------------------


def _text(value: object) -> str | None:
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)  # type: ignore[arg-type]
    if not isinstance(value, str):
        return None
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in value):  # raw 8-bit bytes
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def python_names(raw: bytes, policy: email.policy.Policy, depth: int = 0) -> list[str]:
    """Python's names; where Python itself fails (it can raise on odd
    headers), it shows nothing more."""
    out: list[str] = []
    try:
        _python_names(raw, policy, depth, out)
    except Exception:
        pass
    return out


def _python_names(raw: bytes, policy: email.policy.Policy, depth: int, out: list[str]) -> None:
    msg = email.message_from_bytes(raw, policy=policy)
    for part in msg.walk():
        for get in (part.get_filename, lambda p=part: p.get_param("name")):
            try:
                name = _text(get())
            except Exception:  # a reading that raises shows nothing
                name = None
            if name:
                out.append(name)
        if depth > 5 or part.is_multipart():
            continue
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
        named = [n for n in out if n.lower().endswith(".eml")]
        if (part.get_content_maintype() == "message" and cte in ("base64", "quoted-printable")) or (
            named and cte == "base64"
        ):
            try:
                payload = part.get_payload(decode=True)
            except Exception:
                continue
            if isinstance(payload, bytes):
                out += python_names(payload, policy, depth + 1)


def _norm(name: str) -> str:
    """For comparing: no controls, no outer blanks, and each run of
    characters that are not ASCII one `?` (compat32 shows raw 8-bit bytes
    as U+FFFD each, where the walker reads them as UTF-8 or Latin-1; an
    ending that blocks is ASCII)."""
    out = []
    for c in name:
        if not c.isascii():
            if not out or out[-1] != "?":
                out.append("?")
        elif c.isprintable():
            out.append(c)
    return "".join(out).strip()


def _shown(name: str) -> bool:
    """Could a client show this as a file name?  Not with control
    characters (Windows refuses them), nor Python's own escapes of bytes
    it could not decode (`\\ufffd` written out, from compat32 on binary
    garbage): those are artifacts of Python's reading, not names."""
    return (
        bool(_norm(name))
        and "\\u" not in name
        and "\\x" not in name
        and all(c.isprintable() or c in " \t" for c in name)
    )


def _ending(name: str) -> str:
    """What an ending-based block list compares: from the last dot."""
    plain = _norm(name).rstrip(" .").lower()
    return plain[plain.rfind(".") :] if "." in plain else plain


def _extension(ending: str) -> bool:
    """Is it one a block list could name: a dot, 1 to 10 letters or digits?"""
    return ending.startswith(".") and 2 <= len(ending) <= 11 and ending[1:].isalnum()


def check(raw: bytes, exact: bool = True) -> None:
    """Every name Python shows is among ours; or, not `exact`, every ending
    Python shows is the ending of one of ours (all blocking looks at)."""
    found = attachment_names(io.BytesIO(raw))
    ours = {_norm(n) for n in found}
    endings = {_ending(n) for n in found}
    for policy in (email.policy.compat32, email.policy.default):
        for name in python_names(raw, policy):
            if not _shown(name):
                continue
            if exact:
                assert _norm(name) in ours, (name, policy, sorted(ours), raw)
            elif _extension(_ending(name)):
                assert _ending(name) in endings, (name, policy, sorted(ours), raw)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(messages())
def test_every_name_python_finds_is_found(raw: bytes) -> None:
    check(raw)


ODD_BYTES = [*range(33), 0x7F, 0x85, 0xA0, *b"'?=\\*%()<>@,;:/[]"]


def mutate(data: bytes, draw: st.DrawFn) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        op = draw(st.sampled_from(["cut", "dup", "drop", "semi-comma", "cr", "quote", "byte"]))
        if op == "cut":
            del out[at:]
        elif op == "dup":
            out[at:at] = out[at : at + draw(st.integers(1, 80))]
        elif op == "drop":
            del out[at : at + draw(st.integers(1, 10))]
        elif op == "semi-comma":
            semi = out.find(b";", at)
            if semi >= 0:
                out[semi] = ord(",")
        elif op == "cr":
            out[at:at] = b"\r"
        elif op == "byte":  # a control, a blank Python strips, a special
            out[at:at] = bytes([draw(st.sampled_from(ODD_BYTES))])
        else:
            out[at:at] = b'"'
    return bytes(out)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    return mutate(draw(messages()), draw)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_every_name_python_finds_in_mutated_mail_is_found(raw: bytes) -> None:
    """Cut, duplicated, re-punctuated mail: Python reads repeated pieces of
    garbage parameters in ways no client shows (it joins every repeated
    `name*=` as sorted pieces, say), so here what blocking needs is checked:
    every ending Python shows is one the walker shows too."""
    check(raw, exact=False)
