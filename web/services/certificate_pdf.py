"""A certificate as a printable PDF (A4, landscape), drawn with ReportLab.

The Chinese is set in ReportLab's built-in CID font STSong-Light, which needs no font file (the
reader's PDF viewer supplies 宋体), so it prints on an office intranet with nothing downloaded.
The certificate is printed in Chinese, the language of the office's documents and seal,
whatever the language of the page it was asked from. The code is set in Helvetica and also
stored as the PDF's subject, with a QR code of the check page's address beside it.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from web.services.certificates import shown_code

ISSUER = "贺州市扶贫开发办公室"  # printed under the certificate's text
SONG = "STSong-Light"
RED = HexColor("#b22222")
if SONG not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(UnicodeCIDFont(SONG))


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _villages(names: list[str], most: int = 12) -> str:
    shown = "、".join(names[:most])
    return shown + (f" 等 {len(names)} 个村" if len(names) > most else "")


def body_text(kind: str, facts: dict[str, Any]) -> str:
    """The certificate's sentence of thanks, in Chinese (the language of the office's seal)."""
    if kind == "delivery":
        return (
            f"感谢您为{_villages(facts['villages'])}捐赠{facts['what_zh']}"
            f"{facts['quantity']}{facts['unit_zh']}，折合人民币 {_money(facts['value'])} 元，"
            f"已于 {facts['confirmed_on']} 经村委会确认收到。特发此证，以表谢忱。"
        )
    return (
        f"感谢您在 {facts['year']} 年向{_villages(facts['villages'])}"
        f"（共 {len(facts['villages'])} 个村）捐赠帮扶物资 {facts['confirmations']} 批次，"
        f"折合人民币 {_money(facts['value'])} 元，均经村委会确认收到。特发此证，以资表彰。"
    )


def render(
    kind: str, facts: dict[str, Any], code: str, issued_on: str, check_url: str, issuer: str
) -> bytes:
    """The certificate's PDF bytes."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = Canvas(buffer, pagesize=(width, height), invariant=True)
    pdf.setTitle("捐赠证书")
    pdf.setSubject(code)
    pdf.setKeywords([code])
    pdf.setStrokeColor(RED)
    pdf.setLineWidth(3)
    pdf.rect(28, 28, width - 56, height - 56)
    pdf.setLineWidth(1)
    pdf.rect(36, 36, width - 72, height - 72)
    pdf.setFillColor(RED)
    pdf.setFont(SONG, 40)
    pdf.drawCentredString(width / 2, height - 110, "捐 赠 证 书")
    pdf.setFont("Helvetica", 12)
    pdf.drawCentredString(width / 2, height - 132, "Certificate of Thanks")
    pdf.setFillColor(HexColor("#222222"))
    pdf.setFont(SONG, 20)
    pdf.drawString(90, height - 185, f"{facts.get('donor') or '爱心人士'}：")
    y = height - 225
    for line in simpleSplit(body_text(kind, facts), SONG, 17, width - 220):
        pdf.drawString(120, y, line)
        y -= 30
    pdf.setFont(SONG, 15)
    pdf.drawRightString(width - 90, 150, issuer)
    pdf.drawRightString(width - 90, 126, issued_on)
    pdf.setFont(SONG, 11)
    pdf.drawString(90, 118, "证书编号（可在平台“证书查验”页核验）：")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(90, 96, shown_code(code))
    pdf.setFont("Helvetica", 9)
    pdf.drawString(90, 78, check_url)
    qr = QrCodeWidget(check_url)
    left, bottom, right, top = qr.getBounds()
    size = 80.0
    scale = [size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    drawing = Drawing(size, size, transform=scale)
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, width / 2 - size / 2, 64)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
