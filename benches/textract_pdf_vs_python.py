"""Searchable PDFs per second and bytes per page: lambdakit-textract against Python's usual routes.

Run with `cargo xtask bench`, or by hand:

    cargo build --release -p lambdakit-benches --bin textract-pdf
    .venv/bin/python benches/textract_pdf_vs_python.py target/release/textract-pdf

Every side turns the same four fixture pages (real page images and the real Textract response
for each, in crates/textract/tests/fixtures) into searchable PDFs: each page the image, with
every WORD of the response as invisible text (render mode 3) on its box. Each fixture page is
one PDF, and the four pages together are one four-page PDF. Per PDF, each side parses the JSON
bytes, places every word and writes the PDF to memory, many times in a loop; the images and
the JSON are bytes in memory before the clock starts.

- lambdakit-textract: `target/release/textract-pdf` (its `json+pdf` rate: `Document::from_json`,
  `SearchablePdf::add_page`, `finish`).
- img2pdf + reportlab + pypdf, the common "img2pdf plus a text layer" route: img2pdf makes the
  image pages (page size from the image's resolution, 96 dpi when it records none, as
  lambdakit does), reportlab draws the text layer on pages of the same size (Helvetica, each
  word at its BoundingBox, font size the box height, horizontally scaled to the box width),
  and pypdf merges each text page onto its image page and writes the result, with the merged
  content streams compressed.
- PyMuPDF: `new_page` of the same size, `insert_image` of the image bytes, one `Shape` per
  page with `insert_text(render_mode=3)` per word (Helvetica, same size and scaling, through
  `morph`), and `tobytes(deflate=True)`.

The script then writes each side's PDFs to a temporary folder and checks with `pdftotext`
(poppler-utils) that they are searchable: the share of the response's WORDs found among the
extracted words. It refuses to print rates for PDFs that are not searchable.
"""

import argparse
import collections
import html
import io
import json
import logging
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version

import img2pdf
import pymupdf
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

# Keep in step with benches/src/bin/textract-pdf.rs.
FIXTURES = [
    ("paystub", "paystub.jpg", "paystub.analyze.json"),
    ("receipt", "receipt.jpg", "receipt.detect.json"),
    ("multicol", "multicol.png", "multicol.detect.json"),
    ("twocol-header-footer", "twocol-header-footer.png", "twocol-header-footer.detect.json"),
]
DOCUMENT = "document"
FONT = "Helvetica"
# The share of a page's WORDs that pdftotext must find for a PDF to count as searchable.
MIN_FOUND = 0.95


def words_of(json_bytes):
    """Every WORD of a one-page Textract response: (text, left, top, width, height) as ratios."""
    words = []
    for block in json.loads(json_bytes)["Blocks"]:
        if block["BlockType"] == "WORD" and block.get("Text"):
            box = block["Geometry"]["BoundingBox"]
            words.append((block["Text"], box["Left"], box["Top"], box["Width"], box["Height"]))
    return words


# img2pdf + reportlab + pypdf


def text_layer(pages):
    """A PDF with one page per (width, height, words): the words as invisible text."""
    out = io.BytesIO()
    c = canvas.Canvas(out)
    for width, height, words in pages:
        c.setPageSize((width, height))
        t = c.beginText()
        t.setTextRenderMode(3)
        for text, left, top, w, h in words:
            size = h * height
            natural = stringWidth(text, FONT, size)
            if size <= 0 or natural <= 0:
                continue
            t.setFont(FONT, size)
            t.setHorizScale(100 * w * width / natural)
            t.setTextOrigin(left * width, (1 - top - h) * height)
            t.textOut(text)
        c.drawText(t)
        c.showPage()
    c.save()
    return out.getvalue()


def img2pdf_reportlab(pages):
    """pages: (image bytes, JSON bytes) per page. Returns the searchable PDF's bytes."""
    images = PdfReader(io.BytesIO(img2pdf.convert([image for image, _ in pages])))
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in images.pages]
    layer = PdfReader(io.BytesIO(text_layer([(w, h, words_of(j)) for (w, h), (_, j) in zip(sizes, pages)])))
    writer = PdfWriter(clone_from=images)
    for page, text_page in zip(writer.pages, layer.pages):
        page.merge_page(text_page)
        page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# PyMuPDF


def page_size(image):
    """The page size in points, from the image's own resolution (96 dpi when it records none)."""
    with Image.open(io.BytesIO(image)) as im:
        dpi_x, dpi_y = im.info.get("dpi") or (96, 96)
        return im.width * 72 / dpi_x, im.height * 72 / dpi_y


def pymupdf_pdf(pages):
    doc = pymupdf.open()
    for image, json_bytes in pages:
        width, height = page_size(image)
        page = doc.new_page(width=width, height=height)
        page.insert_image(page.rect, stream=image)
        shape = page.new_shape()
        for text, left, top, w, h in words_of(json_bytes):
            size = h * height
            natural = pymupdf.get_text_length(text, fontname="helv", fontsize=size)
            if size <= 0 or natural <= 0:
                continue
            # PyMuPDF's y axis points down: the baseline is the box's bottom edge.
            origin = pymupdf.Point(left * width, (top + h) * height)
            shape.insert_text(
                origin,
                text,
                fontname="helv",
                fontsize=size,
                render_mode=3,
                morph=(origin, pymupdf.Matrix(w * width / natural, 1)),
            )
        shape.commit()
    out = doc.tobytes(deflate=True)
    doc.close()
    return out


PEERS = {
    "img2pdf+reportlab+pypdf": img2pdf_reportlab,
    "pymupdf": pymupdf_pdf,
}


def rate(build, pages, n):
    for _ in range(max(1, n // 10)):
        build(pages)
    start = time.perf_counter()
    for _ in range(n):
        pdf = build(pages)
    elapsed = time.perf_counter() - start
    total = n * len(pages)
    return {"n": n, "elapsed_s": elapsed, "pages_per_s": total / elapsed, "ms_per_page": elapsed * 1e3 / total}, pdf


def run_rust(binary, fixtures, n, out):
    stdout = subprocess.run(
        [binary, fixtures, str(n), "--out", out], check=True, capture_output=True, text=True
    ).stdout
    return {r["name"]: r for r in json.loads(stdout.strip().splitlines()[-1])["results"]}


def found_share(pdf_path, words):
    """The share of `words` (a multiset) that pdftotext extracts from the PDF as words.

    `pdftotext -bbox` lists the words as poppler segments them. Plain `pdftotext` joins words
    whose boxes nearly touch into one run of text (Textract's boxes on the small multicol
    image are 0.2 pt apart): that happens to every side alike, so it is left out."""
    try:
        out = subprocess.run(["pdftotext", "-bbox", pdf_path, "-"], check=True, capture_output=True, text=True)
    except FileNotFoundError:
        sys.exit("pdftotext is needed to check the PDFs are searchable: apt-get install poppler-utils")
    extracted = collections.Counter(html.unescape(w) for w in re.findall(r"<word [^>]*>([^<]*)</word>", out.stdout))
    expected = collections.Counter(words)
    return sum(min(count, extracted[w]) for w, count in expected.items()) / sum(expected.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", help="path to the textract-pdf binary (built with --release)")
    parser.add_argument("--fixtures", default="crates/textract/tests/fixtures", help="the fixture folder")
    parser.add_argument("--python-n", type=int, default=30, help="PDFs each Python peer builds per row (default 30)")
    parser.add_argument("--rust-n", type=int, default=200, help="PDFs lambdakit builds per row and way (default 200)")
    args = parser.parse_args()
    # img2pdf warns about every PNG with an alpha channel, on every call.
    logging.getLogger("img2pdf").setLevel(logging.ERROR)

    inputs = {}
    for name, image, json_name in FIXTURES:
        with open(os.path.join(args.fixtures, image), "rb") as f:
            image_bytes = f.read()
        with open(os.path.join(args.fixtures, json_name), "rb") as f:
            json_bytes = f.read()
        inputs[name] = [(image_bytes, json_bytes)]
    inputs[DOCUMENT] = [page for name, *_ in FIXTURES for page in inputs[name]]

    with tempfile.TemporaryDirectory() as out:
        ours = run_rust(args.binary, args.fixtures, args.rust_n, out)
        rows = {}
        for name, pages in inputs.items():
            # A few WORDs hold a space ("$ 452.43"); pdftotext lists their parts.
            words = [part for _, j in pages for w in words_of(j) for part in w[0].split()]
            word_count = sum(len(words_of(j)) for _, j in pages)
            row = {
                "pages": len(pages),
                "words": word_count,
                "input_per_page": sum(len(i) for i, _ in pages) / len(pages),
                "lambdakit": {
                    "ms_per_page": ours[name]["modes"]["json+pdf"]["ms_per_page"],
                    "pdf_only_ms_per_page": ours[name]["modes"]["pdf"]["ms_per_page"],
                    "files_ms_per_page": ours[name]["modes"]["files+json+pdf"]["ms_per_page"],
                    "bytes_per_page": ours[name]["output_bytes_per_page"],
                    "found": found_share(os.path.join(out, f"{name}.pdf"), words),
                },
            }
            for peer, build in PEERS.items():
                result, pdf = rate(build, pages, args.python_n)
                path = os.path.join(out, f"{name}.{peer}.pdf")
                with open(path, "wb") as f:
                    f.write(pdf)
                if len(PdfReader(path).pages) != len(pages):
                    sys.exit(f"{peer} made a PDF of the wrong page count for {name}")
                row[peer] = {
                    "ms_per_page": result["ms_per_page"],
                    "bytes_per_page": len(pdf) / len(pages),
                    "found": found_share(path, words),
                }
            rows[name] = row

    unsearchable = [
        f"{name}: {side} {r[side]['found']:.1%}"
        for name, r in rows.items()
        for side in ["lambdakit", *PEERS]
        if r[side]["found"] < MIN_FOUND
    ]
    if unsearchable:
        sys.exit(
            "pdftotext finds too few of the words, the comparison would not be fair:\n  " + "\n  ".join(unsearchable)
        )

    print("Time per page (ms; JSON bytes and image bytes in memory, PDF bytes in memory), speed-up of lambdakit:")
    print()
    print("| PDF | pages | words | lambdakit-textract | img2pdf + reportlab + pypdf | PyMuPDF |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows.items():
        ms = r["lambdakit"]["ms_per_page"]
        cells = [
            f"{r[p]['ms_per_page']:.2f} ms ({1e3 / r[p]['ms_per_page']:.0f}/s), **{r[p]['ms_per_page'] / ms:.1f}x**"
            for p in PEERS
        ]
        print(f"| {name} | {r['pages']} | {r['words']} | {ms:.2f} ms ({1e3 / ms:.0f}/s) | {' | '.join(cells)} |")
    print()
    print("lambdakit's other ways (ms per page): PDF alone (Document already parsed); reading the files too:")
    print()
    print("| PDF | PDF alone | JSON + PDF | files + JSON + PDF |")
    print("| --- | ---: | ---: | ---: |")
    for name, r in rows.items():
        l = r["lambdakit"]
        print(f"| {name} | {l['pdf_only_ms_per_page']:.2f} | {l['ms_per_page']:.2f} | {l['files_ms_per_page']:.2f} |")
    print()
    print("Bytes per page (output / input image bytes), and the share of WORDs pdftotext finds:")
    print()
    print("| PDF | input image | lambdakit-textract | img2pdf + reportlab + pypdf | PyMuPDF |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in rows.items():
        inp = r["input_per_page"]
        cells = [
            f"{r[p]['bytes_per_page']:,.0f} ({r[p]['bytes_per_page'] / inp:.3f}; {r[p]['found']:.1%})"
            for p in ["lambdakit", *PEERS]
        ]
        print(f"| {name} | {inp:,.0f} | {' | '.join(cells)} |")
    print()
    packages = ["img2pdf", "pikepdf", "Pillow", "reportlab", "pypdf", "PyMuPDF"]
    print(
        f"n: lambdakit {args.rust_n}, Python {args.python_n} PDFs per row; "
        + ", ".join(f"{p} {version(p)}" for p in packages)
        + f"; Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
