"""View plumbing every app's API shares."""

from rest_framework.reverse import reverse


class CreatedLocationMixin:
    """Answer a create's 201 with `Location`: the absolute URL of the object created.

    That is its `<basename>-detail` route, or `created_route` where the object is read
    under another resource (a product's review lives at /reviews/{id}/). The schema
    documents `Location` on every create (common.schema.AutoSchema.response_headers).
    """

    created_route: str | None = None

    def get_success_headers(self, data) -> dict[str, str]:
        route = self.created_route or f"{self.basename}-detail"
        return {"Location": reverse(route, args=[data["id"]], request=self.request)}
