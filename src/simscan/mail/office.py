"""Office documents: macros (oletools' olevba) and encryption (oletools'
crypto, which asks msoffcrypto-tool).  Imported only for a body that sniffs
as an OLE file or a zip: olevba alone costs ~65 ms to import."""

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
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


MAX_EMBEDDED = 1000  # files one document may carry


class OfficeError(Exception):
    """An Office file that cannot be read whole (the text says why)."""


def embedded(source: "str | bytes") -> "Iterator[tuple[list[str], bytes]]":
    """The files an OLE document carries, each with its names and data:

    - OLE packages (an `\x01Ole10Native` stream: a file dragged into a
      document, shown as an icon that opens it), read with oletools'
      oleobj: file name, source path, temporary path;
    - an Outlook item's (.msg) attachments (`__attach_version1.0_#N`
      storages): long and short file names, display name, MIME type's
      name, and data; those of messages embedded in it come as well.

    OfficeError if olefile cannot read the file's directory (a document
    olefile gives up on is no clean document)."""
    _quiet()
    import io

    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(source) if isinstance(source, bytes) else source)
        paths = ole.listdir(streams=True, storages=False)
    except RecursionError:
        raise OfficeError("an OLE directory too deep to read") from None
    except Exception as err:
        raise OfficeError(f"{type(err).__name__}: {err}") from None
    try:
        yield from _packages(ole, [p for p in paths if p and p[-1] == "\x01Ole10Native"])
        yield from _msg_attachments(ole, paths)
    finally:
        ole.close()


def _packages(ole: "Any", paths: "list[list[str]]") -> "Iterator[tuple[list[str], bytes]]":
    if not paths:
        return
    from oletools.oleobj import OleNativeStream

    for path in paths[:MAX_EMBEDDED]:
        try:
            package = OleNativeStream(ole.openstream(path).read())
        except Exception as err:
            raise OfficeError(f"an OLE package that cannot be read ({err})") from None
        names = [str(n) for n in (package.filename, package.src_path, package.temp_path) if n]
        yield names, package.data if isinstance(package.data, bytes) else b""


# An Outlook item's attachment properties ([MS-OXMSG] 2.1.3): names, data.
_MSG_NAMES = ("3707", "3704", "3001", "370D")
_MSG_DATA = "__substg1.0_37010102"


def _msg_attachments(ole: "Any", paths: "list[list[str]]") -> "Iterator[tuple[list[str], bytes]]":
    attachments: dict[tuple[str, ...], list[str]] = {}
    for path in paths:
        if len(path) >= 2 and path[-2].startswith("__attach_version1.0_#"):
            attachments.setdefault(tuple(path[:-1]), []).append(path[-1])
    for count, (storage, streams) in enumerate(attachments.items()):
        if count >= MAX_EMBEDDED:
            raise OfficeError(f"more than {MAX_EMBEDDED} attachments in an Outlook item")
        names = []
        for stream in streams:
            tag = stream[len("__substg1.0_") :]
            if tag[:4] in _MSG_NAMES and tag[4:] in ("001F", "001E"):
                raw = ole.openstream([*storage, stream]).read()
                text = raw.decode("utf-16-le" if tag[4:] == "001F" else "cp1252", "replace")
                names.append(text.split("\0", 1)[0])
        data = b""
        if _MSG_DATA in streams:
            data = ole.openstream([*storage, _MSG_DATA]).read()
        yield [n for n in names if n], data


def rtf_objects(source: "str | bytes") -> "Iterator[tuple[list[str], bytes]]":
    """The objects an RTF document carries (`\\object` ... `\\objdata`),
    read with oletools' rtfobj: an OLE package's names and data, or an
    embedded OLE object's data."""
    _quiet()
    if isinstance(source, str):
        with open(source, "rb") as f:
            source = f.read()
    from oletools.rtfobj import RtfObjParser

    parser = RtfObjParser(source)
    try:
        parser.parse()
    except Exception as err:
        raise OfficeError(f"an RTF document that cannot be read ({err})") from None
    for count, obj in enumerate(parser.objects):
        if count >= MAX_EMBEDDED:
            raise OfficeError(f"more than {MAX_EMBEDDED} objects in an RTF document")
        if getattr(obj, "is_package", False):
            names = [str(n) for n in (obj.filename, obj.src_path, obj.temp_path) if n]
            yield names, obj.olepkgdata or b""
        elif getattr(obj, "is_ole", False) and obj.oledata:
            yield [], obj.oledata
        elif obj.rawdata:
            yield [], obj.rawdata
