"""A report as PDF: its HTML page printed by headless Chromium (``--print-to-pdf``), the figures drawn by plotly.js."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from fleet.reports.build import Report
from fleet.reports.render_html import render_html

#: Names the browser goes by on Debian, Ubuntu and elsewhere, tried in this order on PATH.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120


class PdfError(RuntimeError):
    """No browser to print with, or the browser failed; the message says which and how to fix it."""


def find_browser(configured: str | None = None) -> str:
    """The browser to print with: ``configured`` (BENCHFLEET_CHROMIUM) if given, else the first on PATH."""
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise PdfError(f"BENCHFLEET_CHROMIUM={configured!r} is not an executable; install chromium or fix the path")
        return found
    for candidate in BROWSER_NAMES:
        if found := shutil.which(candidate):
            return found
    raise PdfError(
        f"PDF reports need Chromium: none of {', '.join(BROWSER_NAMES)} is on PATH "
        "(Debian: apt-get install chromium), or set BENCHFLEET_CHROMIUM to its path"
    )


def html_to_pdf(html: str, browser: str) -> bytes:
    """Print an HTML page to PDF with headless Chromium (A4, no header or footer lines)."""
    with tempfile.TemporaryDirectory(prefix="benchfleet-pdf-") as tmp:
        folder = Path(tmp)
        page, pdf = folder / "report.html", folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--disable-gpu",
            # Root in containers cannot use Chromium's sandbox; the page is our own, not the web.
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={folder / 'profile'}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"{browser} did not print the report within {TIMEOUT_S} s") from None
        if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise PdfError(f"{browser} failed to print the report (exit {done.returncode}): {' | '.join(tail)}")
        return pdf.read_bytes()


def render_pdf(report: Report, browser: str | None = None) -> bytes:
    """The report's HTML page printed to PDF."""
    return html_to_pdf(render_html(report), find_browser(browser))
