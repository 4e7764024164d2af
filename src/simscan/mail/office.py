"""Office documents: macros (oletools' olevba) and encryption (oletools'
crypto, which asks msoffcrypto-tool).  Imported only for a body that sniffs
as an OLE file or a zip: olevba alone costs ~65 ms to import."""

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _quiet() -> None:
    import logging

    for name in ("olevba", "olefile", "crypto", "msoffcrypto"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def macros(source: "str | bytes") -> str:
    """ "VBA macros", "XLM macros" (Excel 4), or "" for none or for a file
    olevba cannot open as an Office document."""
    _quiet()
    import warnings

    with warnings.catch_warnings():  # (its pyparsing calls are deprecated)
        warnings.simplefilter("ignore")
        from oletools.olevba import VBA_Parser

    try:
        if isinstance(source, bytes):
            parser: Any = VBA_Parser("attachment", data=source)
        else:
            parser = VBA_Parser(source)
    except Exception:
        return ""
    try:
        if parser.detect_vba_macros():
            return "VBA macros"
        if parser.detect_xlm_macros():
            return "XLM macros"
        return ""
    except Exception:
        return ""
    finally:
        try:
            parser.close()
        except Exception:
            pass


def encrypted(source: "str | bytes") -> bool:
    """Is it an encrypted Office document (an EncryptedPackage, RC4 or
    XOR-obfuscated binary formats)?"""
    _quiet()
    import io

    import olefile
    from oletools.crypto import is_encrypted

    try:
        # (bytes shorter than 1536 are taken for a file name: a BytesIO.)
        ole = olefile.OleFileIO(io.BytesIO(source) if isinstance(source, bytes) else source)
    except Exception:
        return False
    try:
        return bool(is_encrypted(ole))
    except Exception:
        return False
    finally:
        ole.close()


# Content types of OOXML parts that hold macros ([MS-OFFMACRO2], [MS-XLSX]).
_MACRO_PARTS = (
    b"application/vnd.ms-office.vbaproject",
    b"application/vnd.ms-excel.macrosheet",
    b"application/vnd.ms-excel.intlmacrosheet",
)


def declared_macros(content_types: bytes) -> str:
    """What an OOXML package's [Content_Types].xml declares: "VBA macros",
    "XLM macros", or ""."""
    text = content_types.lower()
    if _MACRO_PARTS[0] in text:
        return "VBA macros (declared in [Content_Types].xml)"
    if _MACRO_PARTS[1] in text or _MACRO_PARTS[2] in text:
        return "XLM macros (declared in [Content_Types].xml)"
    return ""


MAX_EMBEDDED = 1000  # OLE packages one document may carry


def embedded(source: "str | bytes") -> list[tuple[list[str], bytes]]:
    """The files an OLE document carries as OLE packages (an
    `\\x01Ole10Native` stream: what Office embeds when a file is dragged
    into a document, and shows as an icon that opens it), each with its
    names (file name, source path, temporary path) and data, read with
    oletools' oleobj.  Nothing for a file olefile cannot open."""
    _quiet()
    import io

    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(source) if isinstance(source, bytes) else source)
    except Exception:  # no OLE file after all
        return []
    found: list[tuple[list[str], bytes]] = []
    try:
        streams = [p for p in ole.listdir(streams=True) if p and p[-1] == "\x01Ole10Native"]
        if not streams:
            return []
        from oletools.oleobj import OleNativeStream

        for path in streams[:MAX_EMBEDDED]:
            try:
                package = OleNativeStream(ole.openstream(path).read())
            except Exception:  # a broken package: nothing to open either
                continue
            names = [n for n in (package.filename, package.src_path, package.temp_path) if n]
            data = package.data if isinstance(package.data, bytes) else b""
            found.append(([str(n) for n in names], data))
    except Exception:  # a broken directory
        return found
    finally:
        ole.close()
    return found
