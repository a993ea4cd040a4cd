"""What `OPTIONS` answers about a view: DRF's description, for every view.

DRF describes a view's writes from its serializer and fails (a 500) on a view that has
none, such as a POST that takes no body (log out everywhere). Those answer without
`actions`: there is no field to describe.
"""

from rest_framework.metadata import SimpleMetadata


class ShopMetadata(SimpleMetadata):
    def determine_actions(self, request, view) -> dict:
        """Describe the writes of a view with a request serializer; none for one without."""
        return super().determine_actions(request, view) if has_serializer(view) else {}


def has_serializer(view) -> bool:
    """Return whether the view names a serializer class, or says which in its own get_serializer_class."""
    if getattr(view, "serializer_class", None) is not None:
        return True
    # GenericAPIView's own get_serializer_class only asserts that serializer_class is set.
    return any(
        "get_serializer_class" in vars(klass)
        for klass in type(view).__mro__
        if not klass.__module__.startswith("rest_framework.")
    )
