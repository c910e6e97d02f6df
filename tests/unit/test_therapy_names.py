"""Each therapy named inside a sentence: its article said as the name is spoken, an acronym kept in capitals."""

from api.domain.therapies import REGISTRY


def test_every_therapy_is_named_with_its_article():
    assert {name: row.in_a_sentence for name, row in REGISTRY.items()} == {
        "scs": "an SCS trial", "pns": "a PNS trial", "intrathecal": "an intrathecal trial",
        "medial_branch_block": "a medial branch block", "sacroiliac_block": "a sacroiliac block",
        "nerve_root_block": "a nerve root block"}
