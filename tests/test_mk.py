"""The installed simscanmk command, checked with Debian's tinycdb."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from daemons import Clamd, Spamd
from harness import Site

SIMCONTROL = (
    b"# site policy\n"
    b"\n"
    b"Postmaster@Example.com:clam=yes,spam=no,attach=.TXT:.com\n"
    b"example.com:clam=no,spam=yes,attach=.mp3\r\n"
    b":clam=yes,spam=yes,trophie=yes,spam_hits=20.1,regex=Viagra\n"
    b"list-owner@example.org:regex=^Subject.*Win\n"
)
# What the C simscanmk stores for it: keys and values lower-cased except on
# the default line, the value being the rest of the line, no CR, no NUL.
RECORDS = [
    (b"postmaster@example.com", b"clam=yes,spam=no,attach=.txt:.com"),
    (b"example.com", b"clam=no,spam=yes,attach=.mp3"),
    (b"", b"clam=yes,spam=yes,trophie=yes,spam_hits=20.1,regex=Viagra"),
    (b"list-owner@example.org", b"regex=^subject.*win"),
]


def dump(path: Path) -> list[tuple[bytes, bytes]]:
    """Records as tinycdb's `cdb -d` reads them."""
    out = subprocess.run(["cdb", "-d", str(path)], capture_output=True, check=True).stdout
    records = []
    for line in out.split(b"\n"):
        if not line:
            continue
        head, _, rest = line[1:].partition(b":")
        klen, dlen = (int(n) for n in head.split(b","))
        records.append((rest[:klen], rest[klen + 2 : klen + 2 + dlen]))
    return records


def tinycdb_bytes(tmp_path: Path, records: list[tuple[bytes, bytes]]) -> bytes:
    text = b"".join(b"+%d,%d:%s->%s\n" % (len(k), len(v), k, v) for k, v in records) + b"\n"
    target = tmp_path / "reference.cdb"
    subprocess.run(["cdb", "-c", str(target)], input=text, check=True)
    return target.read_bytes()


def leftovers(site: Site) -> list[str]:
    return [n for n in os.listdir(site.control) if n.startswith("ss.cdb.tmp")]


def test_builds_a_cdb_tinycdb_reads(site: Site, tmp_path: Path) -> None:
    done = site.simcontrol(SIMCONTROL)
    cdb = site.control / "simcontrol.cdb"
    assert done.stdout == f"simscan cdb file built. {cdb}\n".encode()
    assert dump(cdb) == RECORDS
    # Byte for byte what tinycdb (and so DJB's cdbmake) writes for them.
    assert cdb.read_bytes() == tinycdb_bytes(tmp_path, RECORDS)
    assert stat.S_IMODE(cdb.stat().st_mode) == 0o644
    assert leftovers(site) == []


def test_a_bad_line_keeps_the_old_cdb(site: Site) -> None:
    site.simcontrol(SIMCONTROL)
    cdb = site.control / "simcontrol.cdb"
    before = cdb.read_bytes()
    (site.control / "simcontrol").write_bytes(SIMCONTROL + b"example.net clam=yes\n")
    done = site.simscanmk()
    assert done.returncode == 1
    assert done.stdout == b""
    source = site.control / "simcontrol"
    assert (
        done.stderr
        == (
            f"simscanmk: {source} line 7: no ':' after the address or domain; "
            "simcontrol.cdb not changed\n"
        ).encode()
    )
    assert cdb.read_bytes() == before
    assert leftovers(site) == []


def test_bad_values_are_refused_by_line(site: Site) -> None:
    (site.control / "simcontrol").write_bytes(b":clam=yes\nx.example:spam=perhaps\n")
    done = site.simscanmk()
    assert done.returncode == 1
    assert b"line 2: spam must be yes or no, not 'perhaps'" in done.stderr
    assert not (site.control / "simcontrol.cdb").exists()


KNOWN = b"(known: executable, disk-image, shortcut, macro, archive-encrypted)"


def test_types_are_compiled_as_written(site: Site) -> None:
    site.simcontrol(
        b":attach=.exe,types=Executable:shortcut\nExample.com:types=DISK-IMAGE:macro\n"
        b"lax.example:types=:\n"
    )
    assert dump(site.control / "simcontrol.cdb") == [
        (b"", b"attach=.exe,types=Executable:shortcut"),  # the default line keeps its case
        (b"example.com", b"types=disk-image:macro"),
        (b"lax.example", b"types=:"),
    ]


def test_an_unknown_type_is_refused_by_line(site: Site) -> None:
    site.simcontrol(b":clam=yes\n")
    cdb = site.control / "simcontrol.cdb"
    before = cdb.read_bytes()
    source = site.control / "simcontrol"
    source.write_bytes(b":types=executable\nx.example:clam=yes,types=shortcut:ISO\n")
    done = site.simscanmk()
    assert done.returncode == 1
    assert done.stdout == b""
    assert done.stderr == (
        b"simscanmk: " + str(source).encode() + b" line 2: types has an unknown file type "
        b"category 'iso' " + KNOWN + b"; simcontrol.cdb not changed\n"
    )
    assert cdb.read_bytes() == before


def test_an_unknown_type_in_simscan_toml(site: Site) -> None:
    site.configure(block_types=["executable", "exe"])
    (site.control / "simcontrol").write_bytes(b":clam=yes\n")
    done = site.simscanmk()
    assert done.returncode == 1
    assert b"setting block_types unknown file type category 'exe' " + KNOWN in done.stderr


def test_duplicates_are_kept_with_a_warning(site: Site) -> None:
    done = site.simcontrol(b"a.example:clam=yes\na.example:clam=no\n")
    assert b"warning: a.example has several lines; the first wins" in done.stderr
    assert dump(site.control / "simcontrol.cdb") == [
        (b"a.example", b"clam=yes"),
        (b"a.example", b"clam=no"),
    ]


def test_missing_simcontrol(site: Site) -> None:
    done = site.simscanmk()
    assert done.returncode == 1
    assert b"no " + str(site.control / "simcontrol").encode() + b" text file" in done.stderr


def test_cannot_replace_the_cdb(site: Site) -> None:
    (site.control / "simcontrol").write_bytes(b":clam=yes\n")
    (site.control / "simcontrol.cdb").mkdir()
    done = site.simscanmk()
    assert done.returncode == 1
    assert b"cannot write" in done.stderr
    assert leftovers(site) == []


def test_usage(site: Site) -> None:
    done = site.simscanmk("-x")
    assert done.returncode == 1
    assert done.stderr.startswith(b"usage: simscanmk [-g]")


def test_bad_settings_file(site: Site) -> None:
    site.configure(per_domain="yes")
    done = site.simscanmk()
    assert done.returncode == 1
    assert b"setting per_domain expected true or false" in done.stderr


def test_versions(site: Site) -> None:
    from simscan import __version__

    site.configure(attach=True, regex=True, clamav=False)
    done = site.simscanmk("-g")
    target = site.control / "simversions.cdb"
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"simscan versions cdb file built. {target}\n".encode()
    version = __version__.encode()
    assert dump(target) == [(b"attach", version), (b"regex", version)]
    site.configure(clamav=False)
    assert site.simscanmk("-g").returncode == 0
    assert dump(target) == []
    # block_types or block_encrypted alone run the attachment check too.
    for values in ({"block_types": ["macro"]}, {"block_encrypted": True}):
        site.configure(clamav=False, **values)
        assert site.simscanmk("-g").returncode == 0
        assert dump(target) == [(b"attach", version)]


def test_a_qmailqueue_that_is_not_executable_is_warned_about(site: Site) -> None:
    done = site.simcontrol(b"example.com:qmailqueue=/no/such/qmail-queue\n")
    assert b"warning: qmailqueue /no/such/qmail-queue is not executable" in done.stderr


def test_a_settings_id_with_capitals_is_warned_about(site: Site) -> None:
    site.configure(per_domain=True, spam=True, spam_client="rspamd")
    done = site.simcontrol(
        b":rspamd_settings=Default\nexample.com:spam=yes,rspamd_settings=Strict\n"
        b"example.org:rspamd_settings=yes,spam=yes\n"
    )
    assert done.stderr == (
        b"simscanmk: warning: rspamd_settings Strict is sent as strict: simscanmk lower-cases"
        b" rules, so name rspamd's settings id in lower case\n"
    )


# --- simscanmk -g: the scanners' own versions ------------------------------


def script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_clamav_version_from_a_running_clamd(site: Site, clamd: Clamd) -> None:
    site.configure(clamav=True, clamd=str(clamd.socket), clamavdb_path=str(clamd.db))
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    engine = clamd.ask(b"VERSION").decode().split()[1].split("/")[0]
    assert dump(site.control / "simversions.cdb") == [(b"clamav", engine.encode())]


def test_clamav_version_with_database_versions(site: Site, tmp_path: Path) -> None:
    """ENGINE/m:MAIN/d:DAILY as the C simscanmk wrote it: with clamd down,
    the engine from `clamdscan -V`, the databases from `sigtool --info`."""
    db = tmp_path / "clamav-db"
    db.mkdir()
    (db / "main.cvd").write_bytes(b"x")
    (db / "daily.cld").write_bytes(b"x")
    sigtool = script(
        tmp_path / "sigtool",
        'case "$1" in\n'
        '  --info=*main.cvd) echo "Build time: 16 Sep 2021"; echo "Version: 62" ;;\n'
        '  --info=*daily.cld) echo "Version: 27437"; echo "Signatures: 2045431" ;;\n'
        '  *) echo "ClamAV 1.4.6" ;;\n'
        "esac\n",
    )
    clamdscan = script(tmp_path / "clamdscan", 'echo "ClamAV 1.4.6/27000/Mon Nov 23 2026"\n')
    site.configure(
        clamav=True,
        clamd=str(tmp_path / "no-clamd.sock"),
        clamdscan=clamdscan,
        sigtool_path=sigtool,
        clamavdb_path=str(db),
    )
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    assert dump(site.control / "simversions.cdb") == [(b"clamav", b"1.4.6/m:62/d:27437")]


def test_no_clamav_version_anywhere_fails_and_keeps_the_old_cdb(site: Site, tmp_path: Path) -> None:
    site.configure(regex=True)
    assert site.simscanmk("-g").returncode == 0
    before = dump(site.control / "simversions.cdb")
    site.configure(
        regex=True,
        clamav=True,
        clamd=str(tmp_path / "no-clamd.sock"),
        clamdscan=str(tmp_path / "no-clamdscan"),
        sigtool_path=str(tmp_path / "no-sigtool"),
    )
    done = site.simscanmk("-g")
    assert done.returncode == 1
    assert done.stderr == (
        b"simscanmk: no ClamAV version found (clamd, clamdscan -V and sigtool all failed);"
        b" simversions.cdb not changed\n"
    )
    assert done.stdout == b""
    assert dump(site.control / "simversions.cdb") == before


def test_trophie_version(site: Site, tmp_path: Path) -> None:
    trophie = script(
        tmp_path / "trophie", 'echo "Trophie 7.000-1011, VSAPI engine 218, pattern 74141"\n'
    )
    site.configure(trophie_socket="/run/trophie.sock", trophie_path=trophie)
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    assert dump(site.control / "simversions.cdb") == [(b"trophie", b"7.000-1011/218/74141")]
    site.configure(trophie_socket="/run/trophie.sock")
    done = site.simscanmk("-g")
    assert done.returncode == 1
    assert b"simscanmk: no Trophie version found (set trophie_path" in done.stderr


def test_spam_version(site: Site, tmp_path: Path) -> None:
    site.configure(spam=True)
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    ((key, value),) = dump(site.control / "simversions.cdb")
    assert key == b"spam"
    assert subprocess.run(
        ["spamassassin", "-V"], capture_output=True, check=True
    ).stdout.startswith(b"SpamAssassin version " + value + b"\n")
    site.configure(
        spam=True, spamassassin_path=str(tmp_path / "none"), spamd=str(tmp_path / "nosock")
    )
    done = site.simscanmk("-g")
    assert done.returncode == 1
    assert (
        done.stderr
        == (
            f"simscanmk: no SpamAssassin version found ({tmp_path}/none -V failed, and no spamd"
            " endpoint answered PING); simversions.cdb not changed\n"
        ).encode()
    )


def test_spam_version_with_spamd_on_another_host(site: Site, spamd: Spamd) -> None:
    # no SpamAssassin here, but spamd answers: a warning and 'unknown'
    site.configure(spam=True, spamd=str(spamd.socket), spamassassin_path="/nonexistent/sa")
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    assert dump(site.control / "simversions.cdb") == [(b"spam", b"unknown")]
    assert done.stderr.decode().splitlines() == [
        f"simscanmk: warning: /nonexistent/sa -V failed, but spamd at {spamd.socket} answers"
        " PING; the spam version is recorded as 'unknown' (set spamassassin_path to a"
        " SpamAssassin of the same version to record it)"
    ]


def test_simscanmk_warns_about_rules_that_do_nothing(site: Site) -> None:
    site.configure(per_domain=True, clamav=True, attach=False, regex=False)
    done = site.simcontrol(
        ":clam=yes,attach=.exe\nexample.com:regex=viagra\nexample.net:spam_passthru=yes\n"
    )
    warnings = done.stderr.decode().splitlines()
    assert warnings == [
        "simscanmk: warning: simcontrol attach= does nothing while attach = false (in '')",
        "simscanmk: warning: simcontrol regex= does nothing while regex = false (in 'example.com')",
        "simscanmk: warning: simcontrol spam_passthru= does nothing while spam_passthru = false"
        " (in 'example.net')",
    ]
    site.configure(per_domain=False)
    done = site.simscanmk()
    assert done.returncode == 0
    assert done.stderr.decode().splitlines() == [
        f"simscanmk: warning: per_domain = false, so {site.control}/simcontrol.cdb is never read;"
        " set per_domain = true to use it"
    ]
