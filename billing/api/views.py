from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from billing.api.serializers import DiscountCodeSerializer, InvoiceSerializer
from billing.models import DiscountCode, Invoice
from common.permissions import OwnedOrStaffModelPermissions


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
        invoice = self.get_object()
        order = invoice.order
        context = {
            "invoice": invoice,
            "order": order,
            "customer": order.customer,
            "items": order.items.all(),
            "shop_name": settings.SHOP_NAME,
            "currency": settings.SHOP_CURRENCY,
        }
        return HttpResponse(render_to_string("billing/invoice.html", context, request=request))


class DiscountCodeViewSet(viewsets.ModelViewSet):
    """Discount codes (staff, by model permissions)."""

    serializer_class = DiscountCodeSerializer
    permission_classes = [OwnedOrStaffModelPermissions]
    staff_actions = {"list", "retrieve", "create", "update", "partial_update", "destroy"}
    filterset_fields = ["kind", "is_active"]
    search_fields = ["code"]
    ordering_fields = ["code", "created_at", "times_used"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = DiscountCode.objects.all()
