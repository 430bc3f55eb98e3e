"""Derive "Comptoir Sans", the documents' font, from the Liberation Sans 1.07.4 files we ship.

    .venv/bin/python scripts/make_comptoir_sans.py     (needs fontTools: make install-bench)

Comptoir Sans is Liberation Sans with its TrueType hinting removed (the ``fpgm``, ``prep``,
``cvt``, ``gasp``, ``hdmx``, ``LTSH`` and ``VDMX`` tables and every glyph's instructions).
Outlines, metrics, kerning and the character set are untouched, so a page lays out exactly
the same. Hinting only helps rasterise text at small pixel sizes on screens; PDF viewers and
printers ignore it or hint on their own, and WeasyPrint strips it from the fonts it embeds by
default for the same reason. Without it, each subset Typst embeds in a PDF is a third smaller,
so it is compressed faster: 9 % less CPU for Typst to render a 20-line invoice, and a PDF of
31 instead of 48 kB (bench/invoicing.py and the session notes).

Licence: Liberation Sans 1.x is under the GNU GPL v2 with a font exception. Red Hat's terms
(``LiberationSans.LICENSE``) allow modified versions provided they do not use the LIBERATION
trademark, hence the new family and file names; the font exception is kept for the modified
version. The unmodified files stay in the package, for templates an administrator wrote for
"Liberation Sans".
"""

from __future__ import annotations

from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.ttLib.tables import ttProgram

FONTS = Path(__file__).resolve().parents[1] / "src" / "comptoir" / "documents" / "fonts"
STYLES = ("Regular", "Bold", "Italic")
HINTING_TABLES = ("fpgm", "prep", "cvt ", "gasp", "hdmx", "LTSH", "VDMX")
FAMILY = "Comptoir Sans"
# The font names no trademark of the original, as its terms ask of a modified version.
NOTICE = (
    "Comptoir Sans: a modified version (hinting removed) of a font Copyright (c) 2007 "
    "Red Hat, Inc. GNU GPL v2 with the font exception; see ComptoirSans.LICENSE."
)


def derive(style: str) -> TTFont:
    # The original's timestamps are kept, so that running this again gives the same bytes.
    font = TTFont(FONTS / f"LiberationSans-{style}.ttf", recalcTimestamp=False)
    for table in HINTING_TABLES:
        if table in font:
            del font[table]
    glyphs = font["glyf"]
    for name in font.getGlyphOrder():
        glyph = glyphs[name]
        if hasattr(glyph, "program"):
            glyph.program = ttProgram.Program()
            glyph.program.fromBytecode(b"")
    maxp = font["maxp"]
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
    ):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    # Bit 3 of head.flags: "instructions may alter advance widths" (there are none left).
    font["head"].flags &= ~(1 << 3)
    full_name = FAMILY if style == "Regular" else f"{FAMILY} {style}"
    postscript = f"ComptoirSans-{style}"
    names = font["name"]
    names.removeNames(nameID=7)  # the trademark notice of the original
    for name_id, text in {
        0: NOTICE,
        1: FAMILY,
        2: style,
        3: f"Comptoir - {full_name}",
        4: full_name,
        5: "Version 1.07.4; hinting removed",
        6: postscript,
        13: NOTICE,
        14: "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
    }.items():
        names.setName(text, name_id, 3, 1, 0x409)
        names.setName(text, name_id, 1, 0, 0)
    return font


def main() -> None:
    for style in STYLES:
        target = FONTS / f"ComptoirSans-{style}.ttf"
        derive(style).save(target)
        print(f"{target.name}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
