from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import documents
from billing.api.serializers import InvoiceSerializer, PaymentSerializer
from billing.models import Invoice, Payment
from common.negotiation import FixedContentNegotiation
from common.permissions import OwnedOrStaffModelPermissions
from orders.models import Order


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices (bills) of confirmed orders: a customer sees their own; staff see all."""

    serializer_class = InvoiceSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    filterset_fields = ["order", "payment_method"]
    ordering_fields = ["issued_at", "total"]

    def get_queryset(self):
        return Invoice.objects.of(self.request.user).select_related("order")

    @extend_schema(responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A printable page.")})
    @action(detail=True, methods=["get"], url_path="print", url_name="print")
    def print_page(self, request, pk=None):
        """The invoice as a printable HTML page."""
        context = documents.invoice_context(self.get_object())
        return HttpResponse(documents.render_html(documents.INVOICE_TEMPLATE, context, request=request))

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The printable page as a PDF file named after the invoice number."
            )
        }
    )
    # Whatever the Accept header asks (application/pdf, say): the PDF, or the JSON error body.
    @action(detail=True, methods=["get"], url_path="pdf", content_negotiation_class=FixedContentNegotiation)
    def pdf(self, request, pk=None):
        """The invoice as a PDF document, from the printable page's template."""
        invoice = self.get_object()
        context = documents.invoice_context(invoice)
        pdf = documents.render_pdf(documents.INVOICE_TEMPLATE, context, base_url=request.build_absolute_uri())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(False, f"{invoice.number}.pdf")
        return response


class OrderPaymentViewSet(viewsets.GenericViewSet):
    """An order's payments, answered under the order's URL (billing sits above orders)."""

    permission_classes = [OwnedOrStaffModelPermissions]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Order.objects.of(self.request.user)

    @extend_schema(responses=PaymentSerializer(many=True))
    def payments(self, request, pk=None):
        """The order's card payment with every gateway attempt (empty for cash orders)."""
        order = self.get_object()
        payments = Payment.objects.filter(order=order).prefetch_related("attempts")
        return Response(PaymentSerializer(payments, many=True).data)
