"""Content negotiation for endpoints that answer one fixed type (a printable page, a PDF)."""

from rest_framework.negotiation import BaseContentNegotiation


class FixedContentNegotiation(BaseContentNegotiation):
    """Pick the view's first renderer whatever the client's Accept header says.

    A document endpoint answers its own type (HTML, PDF) itself; the renderer only serves
    its errors. So `Accept: application/pdf` is never refused with a 406, and an error goes
    out as the JSON body every other endpoint sends.
    """

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
