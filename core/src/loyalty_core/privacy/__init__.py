"""Privacy requests about one member: export (Art. 15 and 20) and erasure (Art. 17).

The core and every module take part through the same hook, ``loyalty_member_data()``: the
core has no back door that modules lack, and a module that keeps personal data says how to
hand it out and how to remove it.
"""
