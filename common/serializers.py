import copy


class FieldsFromModelOnce:
    """Build a ModelSerializer's fields from its model once per class; each instance gets a copy.

    DRF introspects the model for every serializer instance; for the order list and the
    placing answer that was the largest part of rendering. The fields depend only on the
    class (Meta and declared fields), never on the instance or its context.
    """

    def get_fields(self):
        built = type(self).__dict__.get("_fields_from_model")
        if built is None:
            built = super().get_fields()
            type(self)._fields_from_model = built
        return copy.deepcopy(built)
