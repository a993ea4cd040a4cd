from rest_framework import permissions


class StaffModelPermissionsOrReadOnly(permissions.DjangoModelPermissions):
    """Read for anyone; write for staff holding the Django model permission.

    Admin groups therefore govern the API too.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff) and super().has_permission(request, view)


class StaffCanChangeModel(StaffModelPermissionsOrReadOnly):
    """For actions posted to an existing object (adjust stock): staff holding `change`, not `add`."""

    perms_map = {**StaffModelPermissionsOrReadOnly.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class OwnedOrStaffModelPermissions(permissions.DjangoModelPermissions):
    """Customers act on their own rows; staff on anyone's, by Django model permissions.

    The viewset scopes a customer's queryset to their own rows, so another customer's row
    is a 404, never a 403. Staff need the `view` permission to read. Actions named in the
    view's `staff_actions` are refused to non-staff.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if user.is_staff:
            return super().has_permission(request, view)
        return view.action not in getattr(view, "staff_actions", ())


class OwnedOrStaffCanChange(OwnedOrStaffModelPermissions):
    """For state changes posted to an existing object (cancel): the owner, or staff holding `change`."""

    perms_map = {**OwnedOrStaffModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}
