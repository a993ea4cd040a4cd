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
