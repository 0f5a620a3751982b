"""Removing author fields from uploaded files (issue 18: a stakeholder's files must not name it).

`strip_author_fields` takes bytes already recognised by `app.services.evidence.detect` and
returns bytes of the same type without the fields that name a person or an organisation: the
OOXML core and extended properties (creator, last modified by, company, manager), the ODF
meta.xml creators, a PDF's Info ``/Author`` and ``/Creator`` and its XMP ``dc:creator``, PNG text
and EXIF chunks, and JPEG EXIF/XMP (APP1) and comment segments. PDF values are blanked in place
(same length), so the cross-reference offsets stay valid. Plain text carries no metadata.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

_OOXML_FIELDS = re.compile(
    rb"<(dc:creator|cp:lastModifiedBy|Company|Manager)(\s[^>]*)?>.*?</\1>", re.DOTALL
)
_OOXML_EMPTY = re.compile(rb"<(dc:creator|cp:lastModifiedBy|Company|Manager)(\s[^>]*)?/>")
_ODF_FIELDS = re.compile(rb"<(meta:initial-creator|dc:creator)(\s[^>]*)?>.*?</\1>", re.DOTALL)
_PDF_STRING = re.compile(rb"/(Author|Creator)\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)")
_PDF_XMP = re.compile(rb"(<dc:creator>)(.*?)(</dc:creator>)", re.DOTALL)
_ZIP_PARTS = {"docProps/core.xml", "docProps/app.xml", "meta.xml"}


def _rewrite_zip(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename in _ZIP_PARTS:
                content = _OOXML_FIELDS.sub(b"", content)
                content = _OOXML_EMPTY.sub(b"", content)
                content = _ODF_FIELDS.sub(b"", content)
            if info.filename == "docProps/custom.xml":
                continue  # custom properties are free text a template may fill with names
            # ODF requires "mimetype" first and stored uncompressed: keep each entry's method
            target.writestr(info, content, compress_type=info.compress_type)
    return out.getvalue()


def _blank(match: re.Match) -> bytes:
    value = match.group(2)
    if value.startswith(b"("):
        blank = b"(" + b" " * (len(value) - 2) + b")"
    else:
        blank = b"<" + b" " * (len(value) - 2) + b">"
    return match.group(0)[: -len(value)] + blank


def _strip_pdf(data: bytes) -> bytes:
    data = _PDF_STRING.sub(_blank, data)
    return _PDF_XMP.sub(lambda m: m.group(1) + b" " * len(m.group(2)) + m.group(3), data)


def _strip_png(data: bytes) -> bytes:
    out = [data[:8]]
    position = 8
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if kind not in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
            out.append(data[position:end])
        position = end
    return b"".join(out)


def _strip_jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the image data follows, no more metadata segments
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if marker not in (0xE1, 0xFE):  # APP1 (EXIF, XMP) and COM
            out.append(data[position:end])
        position = end
    out.append(data[position:])
    return b"".join(out)


def strip_author_fields(data: bytes, mime: str) -> bytes:
    """``data`` without its author fields, for a file whose content type is ``mime`` (as
    recognised from the bytes); unchanged when the type carries none or cannot be parsed."""
    try:
        if data.startswith(b"PK\x03\x04"):
            return _rewrite_zip(data)
        if mime == "application/pdf":
            return _strip_pdf(data)
        if mime == "image/png":
            return _strip_png(data)
        if mime == "image/jpeg":
            return _strip_jpeg(data)
    except (zipfile.BadZipFile, struct.error, ValueError, KeyError):
        return data
    return data
