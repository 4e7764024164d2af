"""What a body is, by its content: libmagic (Debian's libmagic1), read as one of
the categories `block_types` names.

- executable: PE/MZ programs, ELF, Mach-O, MSI installers, Java classes;
- disk-image: ISO 9660, UDF, VHD, VHDX, DMG;
- shortcut: Windows .lnk files.

libmagic reads the start of a file.  VHD, VHDX and DMG are known by their
signatures (sniff.DISK) alone: a fixed VHD and a DMG keep theirs in the
last 512 bytes, which libmagic does not read, and libmagic takes a VHDX
whose region table it cannot follow for text.  (`macro` is office.py's.)
"""

from . import sniff

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_EXECUTABLE_TYPES = frozenset(
    {
        "application/vnd.microsoft.portable-executable",
        "application/x-dosexec",
        "application/x-msdownload",
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-object",
        "application/x-coredump",
        "application/x-mach-binary",
        "application/x-msi",
        "application/vnd.ms-msi",
        "application/x-java-applet",
        "application/x-java-vm",
    }
)
_DISK_TYPES = frozenset(
    {
        "application/x-iso9660-image",
        "application/x-udf-image",
        "application/x-vhd",
        "application/x-vhdx",
        "application/x-virtualbox-vhd",
        "application/x-virtualbox-vhdx",
        "application/x-apple-diskimage",
    }
)
_SHORTCUT_TYPES = frozenset({"application/x-ms-shortcut"})
# Words of libmagic's descriptions, for what its MIME type leaves generic.
_EXECUTABLE_WORDS = ("executable", "MSI Installer", "Windows Installer", "Mach-O",
                     "compiled Java class", "ELF ")  # fmt: skip
_DISK_WORDS = ("ISO 9660", "UDF filesystem", "Microsoft Disk Image", "Apple Disk Image", "VHD")
_SHORTCUT_WORDS = ("MS Windows shortcut",)

LIBRARY = "libmagic.so.1"  # Debian's libmagic1
_MIME_TYPE = 0x10  # MAGIC_MIME_TYPE; 0 is the description
_cookies: "dict[bool, int]" = {}
_lib: "Any" = None


def _magic(mime: bool) -> int:
    """A libmagic cookie with the default database loaded, one per kind of
    answer, made once.  (Through ctypes directly: python-magic imports
    ctypes.util and logging, ~20 ms per message that needs it, for the
    same four calls.)"""
    global _lib
    cookie = _cookies.get(mime)
    if cookie is None:
        import ctypes
        from ctypes import c_char_p, c_int, c_size_t, c_void_p

        if _lib is None:
            lib = ctypes.CDLL(LIBRARY)
            for name, args, result in (
                ("magic_open", [c_int], c_void_p),
                ("magic_load", [c_void_p, c_char_p], c_int),
                ("magic_buffer", [c_void_p, c_void_p, c_size_t], c_char_p),
                ("magic_file", [c_void_p, c_char_p], c_char_p),
                ("magic_error", [c_void_p], c_char_p),
            ):
                function = getattr(lib, name)
                function.argtypes = args
                function.restype = result
            _lib = lib
        cookie = _lib.magic_open(_MIME_TYPE if mime else 0)
        if not cookie or _lib.magic_load(cookie, None) != 0:
            raise OSError(f"libmagic: cannot load its database ({LIBRARY})")
        _cookies[mime] = cookie
    return cookie


def describe(source: "str | bytes", mime: bool) -> str:
    """libmagic's answer for a file (a path) or for bytes."""
    cookie = _magic(mime)
    if isinstance(source, str):
        answer = _lib.magic_file(cookie, source.encode())
    else:
        answer = _lib.magic_buffer(cookie, source, len(source))
    if answer is None:
        error = _lib.magic_error(cookie) or b"no answer"
        return "error: " + error.decode("utf-8", "replace")
    return str(answer.decode("utf-8", "replace"))


def category(source: "str | bytes", kind: str) -> str | None:
    """executable, disk-image, shortcut, or None, for a body of this kind
    (sniff.kind) in the file at `source` (a path) or in `source` (bytes:
    the whole body, or its first bytes)."""
    if kind == sniff.DISK:
        return "disk-image"  # VHD, VHDX, DMG: their 8-byte signatures say it

    mime = describe(source, True)
    if mime in _EXECUTABLE_TYPES:
        return "executable"
    if mime in _DISK_TYPES:
        return "disk-image"
    if mime in _SHORTCUT_TYPES:
        return "shortcut"
    text = describe(source, False)
    if text.startswith("error:"):
        return None
    for words, found in (
        (_SHORTCUT_WORDS, "shortcut"),
        (_DISK_WORDS, "disk-image"),
        (_EXECUTABLE_WORDS, "executable"),
    ):
        if any(word in text for word in words):
            return found
    return None
