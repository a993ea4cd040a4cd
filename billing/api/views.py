import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from billing import documents
from billing.api.serializers import (
    CreditNoteSerializer,
    InvoiceSerializer,
    PaymentSerializer,
    RefundRequestSerializer,
    RefundSerializer,
)
from billing.models import CreditNote, Invoice, Payment, Refund
from billing.tasks import hand_over
from common.negotiation import FixedContentNegotiation
from common.permissions import OwnedOrStaffModelPermissions
from common.schema import ErrorSerializer, ValidationErrorSerializer
from common.views import fingerprint, idempotency_key, idempotency_key_parameter
from orders.models import Order


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A kind of printable document: its page and its PDF, rendered from one template and one context."""

    template: str

    def document_context(self, document) -> dict:
        raise NotImplementedError

    @extend_schema(responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A printable page.")})
    @action(detail=True, methods=["get"], url_path="print", url_name="print")
    def print_page(self, request, pk=None):
        """The document as a printable HTML page."""
        context = self.document_context(self.get_object())
        return HttpResponse(documents.render_html(self.template, context, request=request))

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The printable page as a PDF file named after the document's number."
            )
        }
    )
    # Whatever the Accept header asks (application/pdf, say): the PDF, or the JSON error body.
    @action(detail=True, methods=["get"], url_path="pdf", content_negotiation_class=FixedContentNegotiation)
    def pdf(self, request, pk=None):
        """The document as a PDF, from the printable page's template."""
        document = self.get_object()
        context = self.document_context(document)
        pdf = documents.render_pdf(self.template, context, base_url=request.build_absolute_uri())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(False, f"{document.number}.pdf")
        return response


class InvoiceViewSet(DocumentViewSet):
    """Invoices (bills) of confirmed orders: a customer sees their own; staff see all."""

    template = documents.INVOICE_TEMPLATE
    serializer_class = InvoiceSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    filterset_fields = ["order", "payment_method"]
    ordering_fields = ["issued_at", "total"]

    def get_queryset(self):
        credit_notes = Prefetch(
            "credit_notes", queryset=CreditNote.objects.only("pk", "number", "issued_at", "amount", "invoice_id")
        )
        return Invoice.objects.of(self.request.user).with_state().select_related("order").prefetch_related(credit_notes)

    def document_context(self, invoice: Invoice) -> dict:
        return documents.invoice_context(invoice)


class OrderPaymentViewSet(viewsets.GenericViewSet):
    """An order's payments, answered under the order's URL (billing sits above orders)."""

    permission_classes = [OwnedOrStaffModelPermissions]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Order.objects.of(self.request.user)

    @extend_schema(responses=PaymentSerializer(many=True))
    def payments(self, request, pk=None):
        """The order's payment (card, or cash to collect on delivery) with every gateway attempt."""
        order = self.get_object()
        payments = Payment.objects.filter(order=order).prefetch_related("attempts")
        return Response(PaymentSerializer(payments, many=True).data)


class CreditNoteFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="invoice__order", help_text="The order whose invoice it corrects.")

    class Meta:
        model = CreditNote
        fields = ["invoice", "order"]


class CreditNoteViewSet(DocumentViewSet):
    """Credit notes: the corrections of invoices by refunds and cancellations. A customer sees their own."""

    template = documents.CREDIT_NOTE_TEMPLATE
    serializer_class = CreditNoteSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    filterset_class = CreditNoteFilter
    ordering_fields = ["issued_at", "amount"]

    def get_queryset(self):
        return CreditNote.objects.of(self.request.user).select_related("invoice__order")

    def document_context(self, note: CreditNote) -> dict:
        return documents.credit_note_context(note)


class IssuesRefunds(permissions.BasePermission):
    """Staff holding `billing.add_refund` (admin groups govern it)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("billing.add_refund"))


class OrderRefundViewSet(viewsets.GenericViewSet):
    """An order's refunds, under the order's URL: its customer reads them; staff issue them."""

    serializer_class = RefundRequestSerializer  # what OPTIONS describes for a POST
    permission_classes = [OwnedOrStaffModelPermissions]
    pagination_class = None
    filter_backends = []

    def get_permissions(self):
        if self.action == "create":
            return [IssuesRefunds()]
        return super().get_permissions()

    def get_queryset(self):
        return Order.objects.of(self.request.user)

    def refunds(self, order):
        return Refund.objects.filter(payment__order=order).select_related("credit_note").prefetch_related("lines__item")

    @extend_schema(responses=RefundSerializer(many=True))
    def list(self, request, pk=None):
        """The order's refunds, newest first, with their lines and credit notes."""
        order = self.get_object()
        return Response(RefundSerializer(self.refunds(order), many=True, context={"request": request}).data)

    @extend_schema(responses=RefundSerializer)
    def retrieve(self, request, pk=None, refund_pk=None):
        """One refund of the order, with its lines and credit note."""
        refund = get_object_or_404(self.refunds(self.get_object()), pk=refund_pk)
        return Response(RefundSerializer(refund, context={"request": request}).data)

    @extend_schema(
        request=RefundRequestSerializer,
        parameters=[idempotency_key_parameter("refund")],
        responses={
            201: RefundSerializer,
            400: OpenApiResponse(
                ValidationErrorSerializer, description="`validation_error`: a line is not one of this order's."
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="`refund_exceeds_payment`: more money (with `available`, `requested`) or more units "
                "(with `lines`) than the order took in and has not refunded yet; or nothing was paid yet.",
            ),
            422: OpenApiResponse(
                ErrorSerializer, description="`idempotency_key_reused`: the key came with a different body before."
            ),
        },
    )
    def create(self, request, pk=None):
        """Refund the whole order (no `lines`) or some units of some lines; card refunds go through the gateway.

        A card refund answers `pending` and is paid out by the worker; a cash refund is paid
        out at once. An invoiced order gets a credit note for the amount. With an
        `Idempotency-Key`, a retried request gets the first refund back instead of a second.
        """
        order = self.get_object()
        body = RefundRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        options = {
            "units": body.units(),
            "restock": body.validated_data["restock"],
            "reason": body.validated_data["reason"],
            "actor": request.user,
        }
        key = idempotency_key(request)
        if key:
            refund, created = Refund.objects.issue_once(
                order, idempotency_key=key, request_fingerprint=fingerprint(request.data), **options
            )
        else:
            refund, created = Refund.objects.issue(order, **options), True
        if created:
            hand_over(refund)
        refund = self.refunds(order).get(pk=refund.pk)
        headers = {"Location": reverse("order-refund-detail", args=[order.pk, refund.pk], request=request)}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        data = RefundSerializer(refund, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)
