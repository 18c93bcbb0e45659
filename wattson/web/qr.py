"""QR codes for the chargers' stickers (segno: pure Python, PNG and SVG)."""

import io

import segno


def qr_code(text: str, format: str = "png", scale: int = 8) -> tuple[bytes, str]:
    """(image, media type): medium error correction, so a scuffed sticker still scans."""
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    if format == "svg":
        code.save(out, kind="svg", scale=scale, border=4, title=text)
        return out.getvalue(), "image/svg+xml"
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue(), "image/png"
