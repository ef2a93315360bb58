"""Query parameters of image endpoints, and the image response."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Response

from wxqr.service.code_images import CodeImage, ImageFormat, ImageSource, ImageSpec

__all__ = ["ForceQuery", "image_response", "image_spec", "warning_header"]

#: lifecycle: export an expired code anyway (wxqr.service.code_expiry.check_exportable).
ForceQuery = Annotated[
    bool, Query(description="Export even an expired code (its scans show WeChat's error page).")
]


def warning_header(text: str | None) -> dict[str, str]:
    """An RFC 9111 ``Warning`` header (code 299, "miscellaneous persistent warning")."""
    if not text:
        return {}
    safe = text.replace('"', "'").encode("ascii", "replace").decode("ascii")
    return {"Warning": f'299 wxqr "{safe}"'}


def image_spec(
    format: Annotated[
        Literal["png", "svg", "jpg"], Query(description="jpg = WeChat's own image")
    ] = "png",
    source: Annotated[Literal["render", "wechat"], Query()] = "render",
    scale: Annotated[int, Query(ge=1, le=40, description="Pixels per module.")] = 10,
    size: Annotated[int | None, Query(ge=21, le=4096, description="Exact width in pixels.")] = None,
    border: Annotated[int, Query(ge=0, le=16, description="Quiet zone in modules.")] = 4,
    error: Annotated[Literal["l", "m", "q", "h", "L", "M", "Q", "H"], Query()] = "m",
    dark: Annotated[str, Query(pattern=r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")] = "#000000",
    light: Annotated[str, Query(pattern=r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")] = "#ffffff",
) -> ImageSpec:
    chosen = ImageSource(source)
    if format == "jpg":
        chosen = ImageSource.WECHAT
    return ImageSpec(
        format=ImageFormat(format),
        source=chosen,
        scale=scale,
        size=size,
        border=border,
        error=error,
        dark=dark,
        light=light,
    )


def image_response(image: CodeImage, filename: str, warning: str | None = None) -> Response:
    return Response(
        image.content,
        media_type=image.content_type,
        headers={
            # A code's image never changes: let browsers keep it.
            "Cache-Control": "private, max-age=86400, immutable",
            "Content-Disposition": f'inline; filename="{filename}.{image.extension}"',
            "X-Content-Type-Options": "nosniff",
            **warning_header(warning),
        },
    )
