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
    character: str
    box: Box
    reason: str


def overflows(pdf: bytes, *, margin: float) -> list[Overflow]:
    """Characters that straddle a table rule (a cell border) or stand outside the page's left/right margins."""
    found = []
    document = pdfium.PdfDocument(pdf)
    for number, page in enumerate(document, start=1):
        width = page.get_width()
        verticals, horizontals = _rules(page)
        text = page.get_textpage()
        for index in range(text.count_chars()):
            character = text.get_text_range(index, 1)
            if not character.strip():
                continue
            box = Box(*text.get_charbox(index))
            if box.left < margin - 1 or box.right > width - margin + 1:
                found.append(Overflow(number, character, box, "outside the page margins"))
                continue
            for rule in verticals:
                x = (rule.left + rule.right) / 2
                if box.left + TOLERANCE < x < box.right - TOLERANCE and _overlap(box.bottom, box.top, rule.bottom,
                                                                                  rule.top) > TOLERANCE:
                    found.append(Overflow(number, character, box, "crosses a cell's side border"))
                    break
            else:
                for rule in horizontals:
                    y = (rule.bottom + rule.top) / 2
                    if box.bottom + TOLERANCE < y < box.top - TOLERANCE and _overlap(
                            box.left, box.right, rule.left, rule.right) > TOLERANCE:
                        found.append(Overflow(number, character, box, "crosses a cell's top or bottom border"))
                        break
    return found


def page_images(pdf: bytes, *, scale: float = 1.0) -> list:
    """Every page rendered to a PIL image (what a reviewer sees)."""
    return [page.render(scale=scale).to_pil() for page in pdfium.PdfDocument(pdf)]


def ink_outside(image, *, margin_px: int) -> int:
    """How many non-white pixels lie in the left and right margin strips of a rendered page."""
    grey = image.convert("L")
    width, height = grey.size
    count = 0
    for left, right in ((0, margin_px), (width - margin_px, width)):
        strip = grey.crop((left, 0, right, height))
        count += sum(1 for value in strip.getdata() if value < 245)
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
            verticals += [Box(box.left, box.bottom, box.left, box.top), Box(box.right, box.bottom, box.right, box.top)]
            horizontals += [Box(box.left, box.bottom, box.right, box.bottom), Box(box.left, box.top, box.right, box.top)]
    return verticals, horizontals


def _overlap(low_a: float, high_a: float, low_b: float, high_b: float) -> float:
    return min(high_a, high_b) - max(low_a, low_b)
