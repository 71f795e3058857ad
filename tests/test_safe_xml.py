"""Safe XML parsing of whole documents: a DTD is refused wherever it sits, on either parser.

`parse_bytes` uses the plain C tree builder when the root element's start tag follows
the prolog, and the DOCTYPE-refusing builder otherwise; both must refuse every DTD
(no entity ever expanded) and build the same tree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conftest import CORPUS
from toolkit.io.safe_xml import UnsafeXMLError, XMLReadError, new_parser, parse_bytes

_DTD = b'<!DOCTYPE a [<!ENTITY t "EXPANDED">]>'

HOSTILE = [
    ("doctype_first", _DTD + b"<a>&t;</a>", "DTD"),
    ("after_declaration_comment_and_pi", b'<?xml version="1.0"?>\n<!-- c --><?pi x?>\n' + _DTD + b"<a>&t;</a>", "DTD"),
    ("after_a_megabyte_of_space", b" " * ((1 << 20) + 10) + _DTD + b"<a>&t;</a>", "DTD"),
    ("after_a_megabyte_long_comment", b"<!--" + b"x" * (1 << 20) + b"-->" + _DTD + b"<a>&t;</a>", "prolog"),
    ("inside_the_root", b"<a>" + _DTD + b"&t;</a>", "invalid token"),
    ("after_the_root", b"<a>x</a>" + _DTD, "junk after document element"),
    ("utf16_with_bom", ('<?xml version="1.0" encoding="UTF-16"?>' + _DTD.decode() + "<a>&t;</a>").encode("utf-16"), "DTD"),
    ("utf16le_without_bom", (_DTD.decode() + "<a>&t;</a>").encode("utf-16-le"), "DTD"),
    ("declared_latin1", b'<?xml version="1.0" encoding="ISO-8859-1"?>' + _DTD + b"<a>&t;</a>", "DTD"),
    ("declared_cp1252", b'<?xml version="1.0" encoding="cp1252"?>' + _DTD + b"<a>&t;</a>", "DTD"),
    ("undeclared_entity", b"<a>&t;</a>", "undefined entity"),
]


@pytest.mark.parametrize("name,data,reason", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_a_dtd_is_refused_wherever_it_sits(name, data, reason):
    with pytest.raises((UnsafeXMLError, XMLReadError)) as caught:
        parse_bytes(data)
    assert reason in str(caught.value)


@pytest.mark.parametrize("name,data,text", [
    ("doctype_in_a_comment", b"<!-- <!DOCTYPE a> --><a>x</a>", "x"),
    ("doctype_in_cdata", b"<a><![CDATA[<!DOCTYPE a>]]></a>", "<!DOCTYPE a>"),
    ("doctype_as_escaped_text", b"<a>&lt;!DOCTYPE a&gt;</a>", "<!DOCTYPE a>"),
])
def test_a_doctype_that_is_only_text_is_read_as_text(name, data, text):
    assert parse_bytes(data).text == text


def _hooked_parse(data: bytes) -> ET.Element:
    parser = new_parser()
    parser.feed(data)
    return parser.close()


@pytest.mark.parametrize("path", sorted((CORPUS / "ctgov-xml").glob("*.xml"))[:40], ids=lambda p: p.stem)
def test_both_builders_build_the_same_tree(path):
    data = path.read_bytes()
    assert ET.tostring(parse_bytes(data)) == ET.tostring(_hooked_parse(data))
