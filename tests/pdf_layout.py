"""Reads a PDF's layout back with PDFium: where each character and each table rule landed, and page images.

Used to prove that no text runs out of its table cell or past the page margins (tests/api/test_payer_packet.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

TOLERANCE = 0.3  # points: glyph boxes may touch a rule's centre line by rounding


@dataclass(frozen=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True)
class Overflow:
    page: int
    text: str
    box: Box
    reason: str


def overflows(pdf: bytes, *, margin: float) -> list[Overflow]:
    """Runs of text that cross a table rule (a cell border) or stand outside the page's left/right margins.

    A run is a stretch of characters on one baseline with no gap wider than a few spaces: the words of one line
    of one cell. Checking runs rather than single glyphs catches a line that crosses a border between two
    glyphs (in a space), which a glyph-by-glyph check would miss.
    """
    found = []
    document = pdfium.PdfDocument(pdf)
    for number, page in enumerate(document, start=1):
        width = page.get_width()
        verticals, horizontals = _rules(page)
        for words, box in _runs(page.get_textpage()):
            if box.left < margin - 1 or box.right > width - margin + 1:
                found.append(Overflow(number, words, box, "outside the page margins"))
                continue
            for rule in verticals:
                x = (rule.left + rule.right) / 2
                if box.left + TOLERANCE < x < box.right - TOLERANCE and _overlap(box.bottom, box.top, rule.bottom,
                                                                                  rule.top) > TOLERANCE:
                    found.append(Overflow(number, words, box, "crosses a cell's side border"))
                    break
            else:
                for rule in horizontals:
                    y = (rule.bottom + rule.top) / 2
                    if box.bottom + TOLERANCE < y < box.top - TOLERANCE and _overlap(
                            box.left, box.right, rule.left, rule.right) > TOLERANCE:
                        found.append(Overflow(number, words, box, "crosses a cell's top or bottom border"))
                        break
    return found


MAX_GAP = 6.0  # points: wider than a space at these sizes, narrower than two cells' paddings (4 + 4)


def _runs(text) -> list[tuple[str, Box]]:
    runs: list[tuple[str, Box]] = []
    words, box, baseline = "", None, None
    for index in range(text.count_chars()):
        character = text.get_text_range(index, 1)
        if not character.strip():  # spaces, and the line breaks PDFium makes up between text objects
            words += " " if box is not None and character == " " else ""
            continue
        left, bottom, right, top = text.get_charbox(index)
        origin = text.get_charbox(index, loose=True)[1]  # the line's bottom, the same for every glyph on it
        same_line = box is not None and abs(origin - baseline) < 1 and box.right - 1 <= left <= box.right + MAX_GAP
        if same_line:
            words += character
            box = Box(box.left, min(box.bottom, bottom), right, max(box.top, top))
        else:
            if box is not None:
                runs.append((words.strip(), box))
            words, box, baseline = character, Box(left, bottom, right, top), origin
    if box is not None:
        runs.append((words.strip(), box))
    return runs


def page_images(pdf: bytes, *, scale: float = 1.0) -> list:
    """Every page rendered to a PIL image (what a reviewer sees)."""
    return [page.render(scale=scale).to_pil() for page in pdfium.PdfDocument(pdf)]


def ink_outside(image, *, margin_px: int) -> int:
    """How many non-white pixels lie in the left and right margin strips of a rendered page."""
    grey = image.convert("L")
    width, height = grey.size
    count = 0
    for left, right in ((0, margin_px), (width - margin_px, width)):
        count += sum(grey.crop((left, 0, right, height)).histogram()[:245])
    return count


def page_texts(pdf: bytes) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf)]


def _rules(page) -> tuple[list[Box], list[Box]]:
    verticals, horizontals = [], []
    for path in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH]):
        box = Box(*path.get_bounds())
        thin_x, thin_y = box.right - box.left < 2, box.top - box.bottom < 2
        if thin_x and box.top - box.bottom > 4:
            verticals.append(box)
        elif thin_y and box.right - box.left > 4:
            horizontals.append(box)
        elif not (thin_x or thin_y):  # a rectangle (a boxed banner, a shaded cell): its four edges
            left, bottom, right, top = box.left, box.bottom, box.right, box.top
            verticals += [Box(left, bottom, left, top), Box(right, bottom, right, top)]
            horizontals += [Box(left, bottom, right, bottom), Box(left, top, right, top)]
    return verticals, horizontals


def _overlap(low_a: float, high_a: float, low_b: float, high_b: float) -> float:
    return min(high_a, high_b) - max(low_a, low_b)
