"""Request body parsers: DRF's, hardened against bodies built to crash the parser."""

import re
from itertools import accumulate

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# The deepest body the API takes is an order (object > items > line > extras: 4 levels);
# Python's JSON decoder recurses once per level and runs out of stack near 1,000.
MAX_JSON_DEPTH = 32

# A JSON string, escapes included; possessive, and an unterminated one runs to the end of
# the text, so the scan stays linear whatever the body (no backtracking, no retries).
JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
BRACKET = re.compile(r"[\[\]{}]")
STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing documents nested deeper than MAX_JSON_DEPTH with a 400 parse_error."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from exc
        if nesting_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep.")
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except RecursionError as exc:  # the depth check should make this unreachable
            raise ParseError("JSON parse error - nested too deep.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


def nesting_depth(text: str) -> int:
    """Return how deep the arrays and objects of a JSON text nest, ignoring brackets inside strings.

    A malformed text gets a depth of some sort; the decoder then says what is wrong with it.
    """
    brackets = BRACKET.findall(JSON_STRING.sub("", text))
    return max(accumulate(map(STEP.__getitem__, brackets)), default=0)
