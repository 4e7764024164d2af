"""qmail-smtpd's answer to the final dot, from $QMAILQUEUE's exit code:
netqmail 1.06's qmail.c table, and the custom-error patch's exit 82."""

import pytest

from simscan.qmail.smtpreply import reply


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0, "250 ok"),
        (11, "554 envelope address too long for qq (#5.1.3)"),
        (115, "554 envelope address too long for qq (#5.1.3)"),
        (31, "554 mail server permanently rejected message (#5.3.0)"),
        (51, "451 qq out of memory (#4.3.0)"),
        (52, "451 qq timeout (#4.3.0)"),
        (53, "451 qq write error or disk full (#4.3.0)"),
        (54, "451 qq read error (#4.3.0)"),
        (55, "451 qq unable to read configuration (#4.3.0)"),
        (56, "451 qq trouble making network connection (#4.3.0)"),
        (61, "451 qq trouble in home directory (#4.3.0)"),
        (62, "451 qq trouble creating files in queue (#4.3.0)"),
        (63, "451 qq trouble creating files in queue (#4.3.0)"),
        (64, "451 qq trouble creating files in queue (#4.3.0)"),
        (65, "451 qq trouble creating files in queue (#4.3.0)"),
        (66, "451 qq trouble creating files in queue (#4.3.0)"),
        (71, "451 mail server temporarily rejected message (#4.3.0)"),
        (72, "451 connection to mail server timed out (#4.4.1)"),
        (73, "451 connection to mail server rejected (#4.4.1)"),
        (74, "451 communication with mail server failed (#4.4.2)"),
        (81, "451 qq internal bug (#4.3.0)"),
        (91, "451 qq internal bug (#4.3.0)"),
        (120, "451 unable to exec qq (#4.3.0)"),
        # the ranges: 11-40 permanent, anything else temporary
        (12, "554 qq permanent problem (#5.3.0)"),
        (40, "554 qq permanent problem (#5.3.0)"),
        (10, "451 qq temporary problem (#4.3.0)"),
        (41, "451 qq temporary problem (#4.3.0)"),
        (1, "451 qq temporary problem (#4.3.0)"),
        (100, "451 qq temporary problem (#4.3.0)"),
    ],
)
def test_the_qmail_table(code: int, text: str) -> None:
    assert reply(code) == text


def test_the_custom_error_patch() -> None:
    assert reply(82, b"DYour email is considered spam (16.20 spam-hits)") == (
        "554 Your email is considered spam (16.20 spam-hits)"
    )
    assert reply(82, b"ZTry again later") == "451 Try again later"
    # too short a text (the patch wants more than two bytes), or none: the range rule
    assert reply(82, b"Dx") == "451 qq temporary problem (#4.3.0)"
    assert reply(82, b"Dxy") == "554 xy"
    assert reply(82, b"D\xffbad") == "554 \ufffdbad"  # read as UTF-8, never failing
    assert reply(82) == "451 qq temporary problem (#4.3.0)"
    # a text read with any other code is not used
    assert reply(31, b"Zsomething") == "554 mail server permanently rejected message (#5.3.0)"
