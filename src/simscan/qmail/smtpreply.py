"""What qmail-smtpd answers the client's final dot with, given how
$QMAILQUEUE exited: qmail.c's qmail_close() table (netqmail 1.06) and
qmail-smtpd's `554 ` for a `D` text, `451 ` for any other.  With the
custom-error patch, exit 82 sends the text read from the error fd instead.

Only `simscan check` needs this; the per-message path never imports it.
"""

from ..errors import EXIT_CUSTOM

_TEXTS = {
    11: "Denvelope address too long for qq (#5.1.3)",
    31: "Dmail server permanently rejected message (#5.3.0)",
    51: "Zqq out of memory (#4.3.0)",
    52: "Zqq timeout (#4.3.0)",
    53: "Zqq write error or disk full (#4.3.0)",
    54: "Zqq read error (#4.3.0)",
    55: "Zqq unable to read configuration (#4.3.0)",
    56: "Zqq trouble making network connection (#4.3.0)",
    61: "Zqq trouble in home directory (#4.3.0)",
    62: "Zqq trouble creating files in queue (#4.3.0)",
    71: "Zmail server temporarily rejected message (#4.3.0)",
    72: "Zconnection to mail server timed out (#4.4.1)",
    73: "Zconnection to mail server rejected (#4.4.1)",
    74: "Zcommunication with mail server failed (#4.4.2)",
    81: "Zqq internal bug (#4.3.0)",
    120: "Zunable to exec qq (#4.3.0)",
}
_TEXTS.update({115: _TEXTS[11], 91: _TEXTS[81]})
_TEXTS.update(dict.fromkeys((63, 64, 65, 66), _TEXTS[62]))


def reply(exit_code: int, custom_text: bytes | None = None) -> str:
    """The SMTP reply line (without CRLF).  0 is `250 ok` (qmail-smtpd
    adds the time and its pid: `250 ok 1733418000 qp 4242`)."""
    if exit_code == 0:
        return "250 ok"
    text = _TEXTS.get(exit_code)
    if text is None:
        if exit_code == EXIT_CUSTOM and custom_text is not None and len(custom_text) > 2:
            text = custom_text.decode("utf-8", "replace")
        elif 11 <= exit_code <= 40:
            text = "Dqq permanent problem (#5.3.0)"
        else:
            text = "Zqq temporary problem (#4.3.0)"
    return ("554 " if text[0] == "D" else "451 ") + text[1:]
