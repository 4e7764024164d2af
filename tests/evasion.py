"""Ways to hide an attachment name from a checker that reads mail one way
only: one or more messages per class of evasion (issue 12), each built
around a file name, so the same message can carry a blocked name (it must
be refused) or a harmless one (it must pass).

Every case says which reader shows the name: Thunderbird (TB), Outlook,
MimeKit, Python's email package (compat32 or default), or ripmime, which
the C simscan used.  Written from the RFCs and those readers' code.
"""

import base64
import binascii
from collections.abc import Callable

Case = Callable[[str], bytes]

HEAD = "From: mallory@example.org\nTo: bob@example.net\nSubject: invoice\nMIME-Version: 1.0\n"


def mixed(boundary: str, *parts: str, close: str | None = None) -> str:
    """A multipart/mixed body: each part is its headers, a blank line and
    its body; `close` replaces the final delimiter line."""
    body = "".join(f"--{boundary}\n{part}\n" for part in parts)
    end = f"--{boundary}--" if close is None else close
    return f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n{body}{end}\n'


TEXT = "Content-Type: text/plain\n\nplease see the attachment\n"


def att(disposition: str, body: str = "TVqQAAMAAAAEAAAA") -> str:
    return (
        f"Content-Type: application/octet-stream\n{disposition}\n"
        f"Content-Transfer-Encoding: base64\n\n{body}"
    )


def msg(text: str) -> bytes:
    return (HEAD + text).encode("utf-8")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


# --- delimiter lines ------------------------------------------------------------


def padded_delimiter(name: str) -> bytes:
    # RFC 2046 transport padding after the delimiter: every reader.
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(
        f'Content-Type: multipart/mixed; boundary="b"\n\n--b\n{TEXT}\n--b \t\n{part}\n--b--\n'
    )


def junk_after_delimiter(name: str) -> bytes:
    # ripmime matches a boundary by prefix (with as many letters and digits):
    # `--b ;;` opens a part for the C simscan; exact readers see body text.
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(mixed("b", TEXT + "--b ;;\n" + part))


def close_or_separator(name: str) -> bytes:
    # `--b--` closes the outer multipart (boundary b) for a reader that does
    # not see the inner one, and separates the inner (boundary "b--") for
    # TB and Python: the part after it carries the name.
    inner = (
        'Content-Type: multipart/mixed; boundary="b--"\n\n'
        f"--b--\n{att(f'Content-Disposition: attachment; filename={name}')}\n"
        "--b----\n"
    )
    return msg(mixed("b", TEXT, inner))


def parts_after_a_close(name: str) -> bytes:
    # A close delimiter with trailing text is no close for anyone, and the
    # walk must go on past it.
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(mixed("b", TEXT + "--b-- junk\n", part))


# --- unquoted and odd parameter values -----------------------------------------------


def value_with_junk(name: str) -> bytes:
    # Unquoted with a space: Python's default policy and old TB read up to
    # the space, compat32, MimeKit and TB to the `;`.
    return msg(mixed("b", TEXT, att(f"Content-Disposition: attachment; filename={name} junk")))


def value_with_comment(name: str) -> bytes:
    return msg(mixed("b", TEXT, att(f"Content-Disposition: attachment; filename={name} (1)")))


def boundary_with_a_space(name: str) -> bytes:
    # boundary=b c: compat32 and TB take "b c", the default policy "b".
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(f"Content-Type: multipart/mixed; boundary=b c\n\n--b\n{TEXT}\n--b\n{part}\n--b--\n")


def boundary_with_a_space_used_whole(name: str) -> bytes:
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(
        f"Content-Type: multipart/mixed; boundary=b c\n\n--b c\n{TEXT}\n--b c\n{part}\n--b c--\n"
    )


# --- separators ----------------------------------------------------------------


def comma_after_type(name: str) -> bytes:
    part = (
        f"Content-Type: application/octet-stream, name={name}\n"
        "Content-Transfer-Encoding: base64\n\nTVqQ"
    )
    return msg(mixed("b", TEXT, part))


def comma_between_params(name: str) -> bytes:
    part = att(f"Content-Disposition: attachment; size=10, filename={name}")
    return msg(mixed("b", TEXT, part))


def disposition_without_type(name: str) -> bytes:
    # compat32 and TB (with no `;`) read the first item as a parameter.
    return msg(mixed("b", TEXT, att(f"Content-Disposition: filename={name}")))


def no_space_and_empty_param(name: str) -> bytes:
    return msg(mixed("b", TEXT, att(f"Content-Disposition: attachment;foo;filename={name}")))


# --- types ---------------------------------------------------------------------


def attached(name: str) -> str:
    """A message carrying the name, to be attached."""
    return "From: x@example.org\nSubject: fwd\nMIME-Version: 1.0\n" + mixed(
        "i", TEXT, att(f"Content-Disposition: attachment; filename={name}")
    )


def question_mark_type(name: str) -> bytes:
    # TB keeps what follows the last `?`: message/rfc822.
    part = "Content-Type: application/x-unknown?message/rfc822\n\n" + attached(name)
    return msg(mixed("b", TEXT, part))


def untyped_text_with_uuencode(name: str) -> bytes:
    # `Content-Type: text`: untyped text for TB, which decodes uuencode in it.
    body = b64(f"see below\nbegin 644 {name}\nM\n`\nend\n".encode())
    part = f"Content-Type: text\nContent-Transfer-Encoding: base64\n\n{body}"
    return msg(mixed("b", TEXT, part))


def message_news(name: str) -> bytes:
    return msg(mixed("b", TEXT, "Content-Type: message/news\n\n" + attached(name)))


def message_other_subtype_base64(name: str) -> bytes:
    body = b64(attached(name).encode())
    part = f"Content-Type: message/x-forward\nContent-Transfer-Encoding: base64\n\n{body}"
    return msg(mixed("b", TEXT, part))


def eml_attachment(name: str) -> bytes:
    # Clients open an attached *.eml as a message.
    body = b64(attached(name).encode())
    part = att("Content-Disposition: attachment; filename=forwarded.eml", body)
    return msg(mixed("b", TEXT, part))


# --- RFC 2231 ------------------------------------------------------------------


def rfc2231_gap(name: str) -> bytes:
    # compat32 and MimeKit join *0 and *2 across the missing *1.
    head, tail = name[:1], name[1:]
    disposition = f"Content-Disposition: attachment; filename*0={head}; filename*2={tail}"
    return msg(mixed("b", TEXT, att(disposition)))


def rfc2231_not_from_zero(name: str) -> bytes:
    disposition = f"Content-Disposition: attachment; filename*1={name}"
    return msg(mixed("b", TEXT, att(disposition)))


def rfc2231_beside_plain(name: str) -> bytes:
    # Which wins differs; both must be looked at.
    disposition = f"Content-Disposition: attachment; filename*=utf-8''{name}; filename=notes.txt"
    return msg(mixed("b", TEXT, att(disposition)))


def duplicate_params(name: str) -> bytes:
    # TB and Python keep the first, ripmime the last.
    disposition = f"Content-Disposition: attachment; filename=notes.txt; filename={name}"
    return msg(mixed("b", TEXT, att(disposition)))


# --- RFC 2047 ------------------------------------------------------------------


def split_base64_words(name: str) -> bytes:
    # The encoded text cut inside a base64 group: only joined it decodes.
    encoded = base64.b64encode(name.encode()).decode()
    words = f"=?utf-8?B?{encoded[:3]}?= =?utf-8?B?{encoded[3:]}?="
    return msg(mixed("b", TEXT, att(f'Content-Disposition: attachment; filename="{words}"')))


def split_q_escape(name: str) -> bytes:
    # Cut inside the last =XX: one word ends "=6", the next starts "5".
    encoded = "".join(f"={ord(c):02X}" for c in name)
    words = f"=?utf-8?Q?{encoded[:-1]}?= =?utf-8?Q?{encoded[-1:]}?="
    return msg(mixed("b", TEXT, att(f'Content-Disposition: attachment; filename="{words}"')))


# --- line ends -----------------------------------------------------------------


def bare_cr(name: str) -> bytes:
    # A lone CR ends a line for clients (and Python); qmail passes it on.
    return duplicate_params(name).replace(b"\n", b"\r")


def mixed_line_ends(name: str) -> bytes:
    raw = mixed("b", TEXT, att(f"Content-Disposition: attachment; filename={name}"))
    lines = raw.split("\n")
    ends = ["\n", "\r\n", "\r"]
    return (
        HEAD.replace("\n", "\r\n") + "".join(line + ends[i % 3] for i, line in enumerate(lines))
    ).encode()


def boundary_longer_than_a_chunk(name: str) -> bytes:
    return msg(mixed("B" * 70000, TEXT, att(f"Content-Disposition: attachment; filename={name}")))


def header_line_cut_by_a_cr(name: str) -> bytes:
    # ripmime reads only LF as a line end: for it the name is in the
    # Content-Type header; clients see a line of its own.
    part = (
        f"Content-Type: application/octet-stream\rname={name}\n"
        "Content-Transfer-Encoding: base64\n\nTVqQ"
    )
    return msg(mixed("b", TEXT, part))


# --- fallback name headers --------------------------------------------------------


def content_name_header(name: str) -> bytes:
    part = f"Content-Type: application/octet-stream\nContent-Name: {name}\n\nMZ"
    return msg(mixed("b", TEXT, part))


def x_sun_data_name(name: str) -> bytes:
    part = f"X-Sun-Data-Type: default\nX-Sun-Data-Name: {name}\n\nMZ"
    return msg(mixed("b", TEXT, part))


def content_location(name: str) -> bytes:
    # ripmime: the last path segment of Content-Location.
    part = (
        "Content-Type: application/octet-stream\n"
        f"Content-Location: http://example.org/files/{name}\n\nMZ"
    )
    return msg(mixed("b", TEXT, part))


# --- other encodings in text --------------------------------------------------------


def yenc(name: str) -> bytes:
    text = (
        "Content-Type: text/plain\n\nhere:\n"
        f"=ybegin line=128 size=2 name={name}\n}}\n=yend size=2\n"
    )
    return msg(mixed("b", text))


def binhex(name: str) -> bytes:
    # BinHex 4.0: a length byte, the name, a version byte... (no run-length
    # coding needed here), 6 bits a character.
    data = bytes([len(name)]) + name.encode() + b"\0" + b"TEXTMSWD" + b"\0" * 12
    data += b"\0" * (-len(data) % 3)
    alphabet = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
    assert len(alphabet) == 64
    bits = int.from_bytes(data, "big")
    groups = len(data) * 8 // 6
    encoded = bytes(alphabet[(bits >> (6 * (groups - 1 - i))) & 0x3F] for i in range(groups))
    encoded_text = encoded.decode()
    text = (
        "Content-Type: text/plain\n\n(This file must be converted with BinHex 4.0)\n\n"
        f":{encoded_text}\n"
    )
    return msg(mixed("b", text))


def uuencode_in_a_binary_part(name: str) -> bytes:
    # ripmime decodes uuencode in any part it reads raw.
    part = f"Content-Type: application/octet-stream\n\nbegin 644 {name}\nM\nend\n"
    return msg(mixed("b", TEXT, part))


# --- charsets a reader does not know, or maps elsewhere ---------------------------


def unknown_charset_rfc2231(name: str) -> bytes:
    # Python's punycode codec makes "" of the name; TB (ConvertStringToUTF8:
    # an unknown label, ASCII bytes kept), MimeKit (falls back to Latin-1)
    # and ripmime (ignores the charset) show it.
    return msg(
        mixed("b", TEXT, att(f"Content-Disposition: attachment; filename*=punycode''{name}"))
    )


def ascii_word_in_utf16(name: str) -> bytes:
    # Python decodes the word as UTF-16 (no name); TB keeps ASCII bytes as
    # they are, ripmime ignores the charset.
    return msg(
        mixed("b", TEXT, att(f'Content-Disposition: attachment; filename="=?utf-16?Q?{name}?="'))
    )


def boundary_in_ebcdic(name: str) -> bytes:
    # TB and ripmime take an ASCII boundary*= as it is; Python decodes cp037.
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(f"Content-Type: multipart/mixed; boundary*=cp037''zz\n\n--zz\n{part}\n--zz--\n")


def code_page_1200(name: str) -> bytes:
    # MimeKit reads cpNNNN as a .NET code page: 1200 is UTF-16LE, which
    # Python does not know by that name.
    value = "".join(f"%{b:02X}" for b in name.encode("utf-16-le"))
    return msg(mixed("b", TEXT, att(f"Content-Disposition: attachment; filename*=cp1200''{value}")))


def inner_message(name: str) -> str:
    part = att(f"Content-Disposition: attachment; filename={name}")
    return "From: x@example.org\nSubject: fwd\nMIME-Version: 1.0\n" + mixed("inner", TEXT, part)


def rfc822_headers_as_message(name: str) -> bytes:
    # MimeKit parses text/rfc822-headers as a whole message (TextRfc822Headers).
    return msg(mixed("b", TEXT, "Content-Type: text/rfc822-headers\n\n" + inner_message(name)))


def blanks_around_the_slash(name: str) -> bytes:
    # MimeKit's ContentType.TryParse skips blanks around the `/`.
    return msg(mixed("b", TEXT, "Content-Type: message / rfc822\n\n" + inner_message(name)))


def encoded_word_type(name: str) -> bytes:
    # Python's default policy decodes the word: message/rfc822.
    part = "Content-Type: =?utf-8?q?message/rfc822?=\n\n" + inner_message(name)
    return msg(mixed("b", TEXT, part))


def encoded_word_boundary(name: str) -> bytes:
    # Python's default policy decodes an encoded word even inside quotes.
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(
        f'Content-Type: multipart/mixed; boundary="=?utf-8?q?zz?="\n\n--zz\n{part}\n--zz--\n'
    )


# --- ripmime's second look: a leaf part whose body starts like a message -------


def entity(name: str) -> str:
    """A MIME entity with MIME-Version and one more header: ripmime's test."""
    return "MIME-Version: 1.0\n" + att(f"Content-Disposition: attachment; filename={name}")


def decoded_attachment_is_a_message(name: str) -> bytes:
    # ripmime decodes the picture, finds it starts like a message and
    # unpacks it again (MIME_unpack_stage2).
    part = (
        "Content-Type: image/png\nContent-Disposition: attachment; filename=photo.png\n"
        f"Content-Transfer-Encoding: base64\n\n{b64(entity(name).encode())}"
    )
    return msg(mixed("b", TEXT, part))


def text_body_is_a_message(name: str) -> bytes:
    # A single text part: ripmime writes the body out, then unpacks it.
    return msg("Content-Type: text/plain\n\n" + entity(name))


def raw_attachment_is_a_message(name: str) -> bytes:
    # An octet-stream left as it is: the same second look.
    return msg(mixed("b", TEXT, "Content-Type: application/octet-stream\n\n" + entity(name)))


def uuencoded_eml(name: str) -> bytes:
    # Content-Transfer-Encoding: x-uuencode: ripmime, TB and Python decode it;
    # the .eml inside is a message.
    data = inner_message(name).encode()
    lines = "".join(binascii.b2a_uu(data[i : i + 45]).decode() for i in range(0, len(data), 45))
    part = (
        "Content-Type: application/octet-stream; name=fwd.eml\n"
        f"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 fwd.eml\n{lines}`\nend\n"
    )
    return msg(mixed("b", TEXT, part))


def encoding_named_in_passing(name: str) -> bytes:
    # ripmime takes any value with "base64" in it for base64.
    part = "Content-Type: message/rfc822\nContent-Transfer-Encoding: x-base64-ish\n\n" + b64(
        inner_message(name).encode()
    )
    return msg(mixed("b", TEXT, part))


# --- the second review's ------------------------------------------------------------


def python_blank_before_key(name: str) -> bytes:
    # compat32 and default strip every str.isspace() blank around a key.
    return msg(mixed("b", TEXT, att(f"Content-Disposition: attachment;\x0cfilename={name}")))


def python_blank_boundary(name: str) -> bytes:
    part = att(f"Content-Disposition: attachment; filename={name}")
    return msg(f'Content-Type: multipart/mixed;\x1fboundary="zz"\n\n--zz\n{part}\n--zz--\n')


def parameter_without_equals(name: str) -> bytes:
    # ripmime (MIMEH_parse_header_parameter): a missing `=` is only a defect.
    return msg(mixed("b", TEXT, att(f"Content-Disposition: attachment; filename {name}")))


def single_quoted_name(name: str) -> bytes:
    # ripmime takes surrounding quotes off, single ones too.
    return msg(mixed("b", TEXT, att(f"Content-Disposition: attachment; filename='{name}'")))


def question_mark_in_a_quoted_name(name: str) -> bytes:
    # ripmime's FNFILTER_filter cuts a name at its first `?`.
    return msg(mixed("b", TEXT, att(f'Content-Disposition: attachment; filename="{name}?.txt"')))


def mht_attachment(name: str) -> bytes:
    # ripmime unpacks a part named *.mht* as a message once decoded.
    part = (
        "Content-Type: application/octet-stream; name=page.mht\n"
        f"Content-Transfer-Encoding: base64\n\n{b64(inner_message(name).encode())}"
    )
    return msg(mixed("b", TEXT, part))


def loose_begin_line(name: str) -> bytes:
    # ripmime: after one uuencode begin line in a part, any `begin` and a
    # blank opens a file, its "mode" unchecked.
    text = f"Content-Type: text/plain\n\nbegin 644 a.txt\nM\nend\nbegin xyz {name}\nM\nend\n"
    return msg(mixed("b", text))


def headers_in_a_preamble(name: str) -> bytes:
    # ripmime reads the lines after a multipart part's blank line as the
    # next headers (MIME_unpack_stage2), with no delimiter before them.
    entity = att(f"Content-Disposition: attachment; filename={name}")
    part = f'Content-Type: multipart/mixed; boundary="zz"\n\n{entity}\n--zz\n{TEXT}\n--zz--'
    return msg(mixed("b", TEXT, part))


def multipart_without_a_boundary(name: str) -> bytes:
    entity = att(f"Content-Disposition: attachment; filename={name}")
    return msg(mixed("b", TEXT, "Content-Type: multipart/mixed\n\n" + entity))


def base64_multipart(name: str) -> bytes:
    # ripmime decodes an inline multipart sent as base64 and reads it as a
    # message.
    entity = att(f"Content-Disposition: attachment; filename={name}")
    part = (
        "Content-Type: multipart/related\nContent-Disposition: inline\n"
        f"Content-Transfer-Encoding: base64\n\n{b64(entity.encode())}"
    )
    return msg(mixed("b", TEXT, part))


CASES: dict[str, Case] = {
    fn.__name__: fn
    for fn in (
        padded_delimiter, junk_after_delimiter, close_or_separator, parts_after_a_close,
        value_with_junk, value_with_comment, boundary_with_a_space,
        boundary_with_a_space_used_whole, comma_after_type, comma_between_params,
        disposition_without_type, no_space_and_empty_param, question_mark_type,
        untyped_text_with_uuencode, message_news, message_other_subtype_base64,
        eml_attachment, rfc2231_gap, rfc2231_not_from_zero, rfc2231_beside_plain,
        duplicate_params, split_base64_words, split_q_escape, bare_cr, mixed_line_ends,
        boundary_longer_than_a_chunk, header_line_cut_by_a_cr, content_name_header,
        x_sun_data_name, content_location, yenc, binhex, uuencode_in_a_binary_part,
        unknown_charset_rfc2231, ascii_word_in_utf16, boundary_in_ebcdic, code_page_1200,
        rfc822_headers_as_message, blanks_around_the_slash, encoded_word_type,
        encoded_word_boundary, decoded_attachment_is_a_message, text_body_is_a_message,
        raw_attachment_is_a_message, uuencoded_eml, encoding_named_in_passing,
        python_blank_before_key, python_blank_boundary, parameter_without_equals,
        single_quoted_name, question_mark_in_a_quoted_name, mht_attachment, loose_begin_line,
        headers_in_a_preamble, multipart_without_a_boundary, base64_multipart,
    )
}  # fmt: skip

BLOCKED = "invoice.exe"
HARMLESS = "invoice.txt"
