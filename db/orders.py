"""The orders each list can be read in, as sort columns and the same key read off a record.

Every order ends with the row's id, so keys are unique. Names sort by their stored folded
keys (db.names.fold: "apple" before "Banana"), compared by code point on every database
(the key columns have collation "C" on PostgreSQL; SQLite compares bytes).
"""

from __future__ import annotations

from datetime import datetime

from db.models import product_tags, products, tags
from db.names import product_key
from db.paging import Order, Sort

# A product's tags (Product.tags); the junction joined to tags.
TAG_LINKS = {
    "priority": Sort(
        (product_tags.c.priority, tags.c.name_key, tags.c.id),
        (int, str, int),
        lambda link: (link.priority, link.tag.name_key, link.tag.id),
    ),
    "name": Sort(
        (tags.c.name_key, tags.c.id), (str, int), lambda link: (link.tag.name_key, link.tag.id)
    ),
    "added_at": Sort(
        (product_tags.c.added_at, tags.c.id),
        (datetime, int),
        lambda link: (link.added_at, link.tag.id),
    ),
}
TAG_LINKS_DEFAULT = Order("priority", descending=True)

# A tag's products (Tag.products); the junction, joined to products only for "name".
PRODUCT_LINKS = {
    "id": Sort((product_tags.c.product_id,), (int,), lambda link: (link.product.id,)),
    "name": Sort(
        (products.c.name_key, product_tags.c.product_id),
        (str, int),
        lambda link: (product_key(link.product.name), link.product.id),
    ),
    "priority": Sort(
        (product_tags.c.priority, product_tags.c.product_id),
        (int, int),
        lambda link: (link.priority, link.product.id),
    ),
    "added_at": Sort(
        (product_tags.c.added_at, product_tags.c.product_id),
        (datetime, int),
        lambda link: (link.added_at, link.product.id),
    ),
}
PRODUCT_LINKS_DEFAULT = Order("id")

PRODUCTS = {
    "id": Sort((products.c.id,), (int,), lambda p: (p.id,)),
    "name": Sort(
        (products.c.name_key, products.c.id), (str, int), lambda p: (product_key(p.name), p.id)
    ),
    "created_at": Sort(
        (products.c.created_at, products.c.id), (datetime, int), lambda p: (p.created_at, p.id)
    ),
}
PRODUCTS_DEFAULT = Order("id")

TAGS = {
    "name": Sort((tags.c.name_key, tags.c.id), (str, int), lambda t: (t.name_key, t.id)),
    "id": Sort((tags.c.id,), (int,), lambda t: (t.id,)),
    "created_at": Sort(
        (tags.c.created_at, tags.c.id), (datetime, int), lambda t: (t.created_at, t.id)
    ),
}
TAGS_DEFAULT = Order("name")
