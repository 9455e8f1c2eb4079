"""A believable demo catalog, written through the same services as any client's writes."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.associations import Associations
from db.catalog import Catalog
from db.models import products

TAGS = [
    "New",
    "Sale",
    "Bestseller",
    "Limited edition",
    "Eco",
    "Handmade",
    "Organic",
    "Vegan",
    "Gift idea",
    "Clearance",
    "Back in stock",
    "Premium",
    "Budget",
    "Kids",
    "Outdoor",
    "Kitchen",
    "Office",
    "Garden",
    "Travel",
    "Fitness",
    "Winter",
    "Summer",
    "Wireless",
    "Refurbished",
    "Local",
    "Fair trade",
    "Recycled",
    "Staff pick",
    "Bundle",
    "Pre-order",
    "Imported",
    "Waterproof",
    "Smart home",
    "Pet friendly",
    "Gluten free",
    "Made in EU",
]
MATERIALS = ["Oak", "Steel", "Linen", "Ceramic", "Bamboo", "Wool", "Glass", "Copper", "Cotton"]
COLOURS = ["Red", "Sage", "Ivory", "Charcoal", "Ocean", "Amber", "Slate", "Rose", "Forest"]
THINGS = [
    "Lamp",
    "Mug",
    "Backpack",
    "Desk",
    "Blanket",
    "Kettle",
    "Planter",
    "Chair",
    "Notebook",
    "Bottle",
    "Headphones",
    "Rug",
    "Candle",
    "Jacket",
    "Speaker",
    "Teapot",
    "Tray",
    "Shelf",
]


async def is_empty(connection: AsyncConnection) -> bool:
    return (await connection.execute(select(func.count()).select_from(products))).scalar_one() == 0


async def seed_demo(
    connection: AsyncConnection, *, products_count: int = 300, seed: int = 7
) -> int:
    """Create `products_count` products with 0-6 tags each from a few dozen; returns how many."""
    rng = random.Random(seed)
    catalog = Catalog(connection)
    associations = Associations(connection)
    for n in range(products_count):
        name = f"{rng.choice(COLOURS)} {rng.choice(MATERIALS)} {rng.choice(THINGS)} #{n + 1}"
        tag_names = rng.sample(TAGS, rng.randint(0, 6))
        product, _ = await catalog.create_product(name, tag_names)
        if tag_names and rng.random() < 0.5:  # feature one tag, as merchandisers do
            await associations.add_tags(product.id, tag_names[:1], priority=rng.randint(1, 4))
    return products_count
