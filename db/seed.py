"""A believable demo catalog, written through the same services as any client's writes.

Its links show what the junction carries: priorities from -1 to 10 and `added_at` times
spread over the eight weeks from DEMO_START, so ordering a product's tags by PRIORITY,
NAME or ADDED_AT, and filtering by priority or addedAt, give visibly different answers.
Everything comes from one seeded generator: the same catalog on every run.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

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


# The demo's links were added over the eight weeks from here (a fixed date, so the README's
# tour shows the same answers on every machine).
DEMO_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEMO_WEEKS = 8
# Most links keep the default priority; some are raised, a few pushed down.
PRIORITIES = (0, 0, 0, 1, 2, 3, 5, -1)
FEATURED = 10  # a merchandiser's featured tag, first in Product.tags


async def is_empty(connection: AsyncConnection) -> bool:
    return (await connection.execute(select(func.count()).select_from(products))).scalar_one() == 0


async def seed_demo(
    connection: AsyncConnection, *, products_count: int = 300, seed: int = 7
) -> int:
    """Create `products_count` products with 0-6 tags each from a few dozen; returns how many.

    Each link gets a priority (a third of the tagged products feature one tag at 10) and a
    time in the eight weeks from DEMO_START, both from the seeded generator.
    """
    rng = random.Random(seed)
    catalog = Catalog(connection)
    tag_ids = {name: (await catalog.create_tag(name)).id for name in TAGS}
    links: list[tuple[int, int, int, datetime]] = []
    for n in range(products_count):
        name = f"{rng.choice(COLOURS)} {rng.choice(MATERIALS)} {rng.choice(THINGS)} #{n + 1}"
        tag_names = rng.sample(TAGS, rng.randint(0, 6))
        product, _ = await catalog.create_product(name)
        featured = bool(tag_names) and rng.random() < 1 / 3
        for position, tag_name in enumerate(tag_names):
            priority = FEATURED if featured and position == 0 else rng.choice(PRIORITIES)
            minutes = rng.randrange(DEMO_WEEKS * 7 * 24 * 60)
            added_at = DEMO_START + timedelta(minutes=minutes)
            links.append((product.id, tag_ids[tag_name], priority, added_at))
    await Associations(connection).import_links(links)
    return products_count
