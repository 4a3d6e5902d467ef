#!/usr/bin/env python3
"""Regenerates the Orderline demo seed in Data/seed/.

Writes 01-network.txt (from the NODES table below), 02-catalog.txt and
03-stock.txt. Standard library only; every random choice comes from one
random.Random with a fixed seed, so running it twice gives identical files.

    python3 Data/generate_seed.py
"""

import math
import os
import random

SEED = 20240601
REGULAR_SKUS = 1250

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seed")

# --------------------------------------------------------------------------
# Network: real city coordinates in the continental USA.
# (id, kind, lat, lon, options, comment)
# --------------------------------------------------------------------------

WAREHOUSE = "ship=yes pickup=no returns=yes"
STORE = "ship=yes pickup=yes returns=yes"
DROPSHIP = "ship=yes pickup=no returns=no"

NODES = [
    ("WH-RENO", "warehouse", "39.529633", "-119.813803", WAREHOUSE + " capacity=40000 cost=180", "Reno, NV"),
    ("WH-MEMPHIS", "warehouse", "35.149534", "-90.048980", WAREHOUSE + " capacity=60000 cost=150", "Memphis, TN"),
    ("WH-ALLENTOWN", "warehouse", "40.608431", "-75.490183", WAREHOUSE + " capacity=45000 cost=240", "Allentown, PA"),
    ("WH-DALLAS", "warehouse", "32.776664", "-96.796988", WAREHOUSE + " capacity=50000 cost=170", "Dallas, TX"),
    ("WH-CHICAGO", "warehouse", "41.878114", "-87.629798", WAREHOUSE + " capacity=35000 cost=260", "Chicago, IL"),
    ("WH-ATLANTA", "warehouse", "33.748995", "-84.387982", WAREHOUSE + " capacity=20000 cost=300", "Atlanta, GA"),
    ("ST-NYC-5TH", "store", "40.758740", "-73.978674", STORE + " capacity=800 cost=700", "New York, NY (Fifth Avenue)"),
    ("ST-LA-GROVE", "store", "34.071893", "-118.357815", STORE + " capacity=700 cost=650", "Los Angeles, CA (The Grove)"),
    ("ST-CHI-MICH", "store", "41.894838", "-87.624385", STORE + " capacity=650 cost=620", "Chicago, IL (Michigan Avenue)"),
    ("ST-HOU-GALLERIA", "store", "29.739340", "-95.463770", STORE + " capacity=500 cost=520", "Houston, TX (Galleria)"),
    ("ST-PHX-CAMELBACK", "store", "33.509370", "-112.029190", STORE + " capacity=350 cost=450", "Phoenix, AZ (Camelback Road)"),
    ("ST-PHL-CENTER", "store", "39.952335", "-75.163789", STORE + " capacity=400 cost=560", "Philadelphia, PA (Center City)"),
    ("ST-SAT-RIVERWALK", "store", "29.424122", "-98.493629", STORE + " capacity=250 cost=420", "San Antonio, TX (River Walk)"),
    ("ST-SD-GASLAMP", "store", "32.711528", "-117.160446", STORE + " capacity=300 cost=480", "San Diego, CA (Gaslamp Quarter)"),
    ("ST-SEA-PINE", "store", "47.611436", "-122.336694", STORE + " capacity=450 cost=600", "Seattle, WA (Pine Street)"),
    ("ST-DEN-16TH", "store", "39.747200", "-104.994700", STORE + " capacity=300 cost=460", "Denver, CO (16th Street Mall)"),
    ("ST-BOS-NEWBURY", "store", "42.349700", "-71.080600", STORE + " capacity=350 cost=640", "Boston, MA (Newbury Street)"),
    ("ST-MIA-BRICKELL", "store", "25.766800", "-80.193100", STORE + " capacity=200 cost=400", "Miami, FL (Brickell)"),
    ("DS-ACME", "dropship", "39.961176", "-82.998794", DROPSHIP + " capacity=5000 cost=350", "Columbus, OH (supplier)"),
    ("DS-PACIFIC", "dropship", "34.063344", "-117.650888", DROPSHIP + " capacity=8000 cost=320", "Ontario, CA (supplier)"),
]

# --------------------------------------------------------------------------
# Catalog word lists: category -> adjectives, nouns with a typical price in
# cents and weight in grams, and variants that fit every noun of the category.
# Each SKU's price and weight vary around the noun's typical values.
# --------------------------------------------------------------------------

CATEGORIES = [
    ("Apparel",
     ["Classic", "Slim", "Relaxed", "Organic Cotton", "Merino", "Linen", "Fleece", "Quilted", "Ribbed", "Heavyweight"],
     [("T-Shirt", 1999, 180), ("Hoodie", 4999, 600), ("Chinos", 4499, 550), ("Jeans", 5999, 700), ("Polo", 2999, 250),
      ("Cardigan", 5999, 450), ("Rain Jacket", 8999, 500), ("Puffer Vest", 6999, 400), ("Joggers", 3999, 400),
      ("Oxford Shirt", 3999, 300), ("Flannel Shirt", 3499, 350), ("Leggings", 2999, 200)],
     ["XS", "S", "M", "L", "XL", "XXL", "Navy", "Black", "Heather Grey", "Olive", "Sand", "Burgundy"]),
    ("Accessories",
     ["Wool", "Cashmere", "Knit", "Leather", "Canvas", "Packable", "Everyday"],
     [("Beanie", 1999, 90), ("Scarf", 2999, 160), ("Socks 3-Pack", 1299, 120), ("Belt", 3499, 200),
      ("Backpack", 7999, 900), ("Tote Bag", 2499, 300), ("Gloves", 2499, 110), ("Wallet", 3999, 100)],
     ["Black", "Brown", "Navy", "Charcoal", "Camel", "Forest Green", "One Size"]),
    ("Footwear",
     ["Trail", "Everyday", "Leather", "Canvas", "Waterproof", "Lightweight", "Cushioned", "Suede"],
     [("Running Shoe", 11999, 600), ("Sneaker", 7999, 800), ("Hiking Boot", 16999, 1300), ("Chelsea Boot", 14999, 1200),
      ("Loafer", 9999, 700), ("Slide Sandal", 2999, 400), ("Slipper", 2499, 350), ("Court Shoe", 8999, 750)],
     ["Size 7", "Size 8", "Size 9", "Size 10", "Size 11", "Size 12", "Black", "White", "Tan"]),
    ("Home",
     ["Ceramic", "Stoneware", "Bamboo", "Oak", "Woven", "Linen", "Enamel", "Modern", "Rustic", "Minimalist"],
     [("Mug", 1499, 350), ("Dinner Plate Set", 4999, 3200), ("Serving Bowl", 2999, 900), ("Storage Jar", 1299, 600),
      ("Throw Blanket", 4999, 1200), ("Bath Towel", 1999, 600), ("Duvet Cover", 8999, 1500), ("Table Lamp", 6999, 2200),
      ("Wall Clock", 3499, 900), ("Laundry Basket", 2999, 1100), ("Side Table", 12999, 7500), ("Bookshelf", 19999, 22000),
      ("Picture Frame", 1999, 500), ("Candle", 1899, 400)],
     ["White", "Charcoal", "Sage", "Terracotta", "Natural", "Small", "Medium", "Large"]),
    ("Kitchen",
     ["Compact", "Pro", "Stainless", "Cast Iron", "Nonstick", "Insulated", "Precision", "Everyday"],
     [("Blender", 8999, 3500), ("Kettle", 4999, 1300), ("Coffee Grinder", 3999, 1100), ("Toaster", 4499, 2200),
      ("Knife Set", 11999, 2500), ("Food Scale", 2499, 600), ("Air Fryer", 9999, 5000), ("Water Bottle", 2999, 400),
      ("Pour-Over Set", 3999, 800), ("Stand Mixer", 34999, 10500), ("Rice Cooker", 6999, 3000), ("Skillet", 3999, 2400),
      ("Dutch Oven", 8999, 5500), ("Cutting Board", 2999, 1500), ("Salad Spinner", 2499, 900)],
     ["Black", "Silver", "Red", "Cream", "Matte Black", "Copper"]),
    ("Electronics",
     ["Wireless", "Smart", "Portable", "Compact", "Pro", "Ultra", "Essential", "Travel"],
     [("Earbuds", 9999, 60), ("Headphones", 19999, 280), ("Bluetooth Speaker", 7999, 700), ("4K Monitor 27in", 34999, 6500),
      ("Mechanical Keyboard", 11999, 1000), ("Mouse", 3999, 100), ("Webcam", 6999, 200), ("Power Bank", 3999, 350),
      ("USB-C Charger 65W", 4999, 180), ("Tablet", 39999, 480), ("Smartwatch", 24999, 60), ("Wi-Fi Router", 14999, 900),
      ("Projector", 59999, 3500), ("E-Reader", 12999, 200), ("Action Camera", 29999, 160), ("Laptop 14in", 99999, 1500)],
     ["Black", "White", "Graphite", "Silver", "Midnight Blue", "2nd Gen", "Refurbished"]),
    ("Toys",
     ["Wooden", "Plush", "Magnetic", "Remote Control", "Glow-in-the-Dark", "Deluxe", "Junior", "Classic"],
     [("Building Blocks", 3999, 1200), ("Puzzle 1000pc", 1999, 700), ("Teddy Bear", 2499, 400), ("Race Car", 3499, 600),
      ("Dollhouse", 12999, 7000), ("Board Game", 2999, 1100), ("Train Set", 7999, 3000), ("Kite", 1999, 250),
      ("Science Kit", 3499, 1300), ("Art Set", 2499, 1000), ("Dinosaur Figure", 1499, 300), ("Stacking Rings", 1299, 350)],
     ["Ages 3+", "Ages 6+", "Ages 8+", "Red", "Blue", "Rainbow", "Starter Edition", "Family Edition"]),
    ("Beauty",
     ["Hydrating", "Gentle", "Vitamin C", "Unscented", "Mineral", "Nourishing", "Clarifying", "Daily"],
     [("Face Cream", 2999, 120), ("Cleanser", 1699, 220), ("Serum", 3499, 80), ("Sunscreen SPF 50", 1999, 150),
      ("Lip Balm", 499, 20), ("Shampoo", 1299, 450), ("Conditioner", 1299, 450), ("Body Wash", 999, 550),
      ("Hand Cream", 899, 100), ("Mascara", 1599, 40), ("Hair Oil", 2299, 130), ("Face Mask 5-Pack", 1499, 150)],
     ["Travel Size", "Value Pack", "Sensitive Skin", "Fragrance Free", "Lavender", "Citrus", "Refill"]),
    ("Sports",
     ["Adjustable", "Foldable", "Pro", "Lightweight", "Carbon", "All-Weather", "Training", "Club"],
     [("Yoga Mat", 3999, 1200), ("Dumbbell Pair 10lb", 3999, 9200), ("Kettlebell 20lb", 4999, 9100),
      ("Jump Rope", 1499, 200), ("Tennis Racket", 12999, 300), ("Basketball", 2999, 620), ("Soccer Ball", 2499, 430),
      ("Cycling Helmet", 7999, 350), ("Resistance Bands", 1999, 300), ("Foam Roller", 2499, 500),
      ("Camping Tent 2-Person", 14999, 2500), ("Sleeping Bag", 8999, 1600), ("Folding Treadmill", 79999, 24000)],
     ["Blue", "Black", "Coral", "Graphite", "Lime", "Standard", "Signature Edition"]),
    ("Office",
     ["Recycled", "Ergonomic", "Spiral", "Heavy-Duty", "Classic", "Compact", "Premium"],
     [("Notebook", 999, 300), ("Gel Pen 10-Pack", 1199, 150), ("Desk Organizer", 2499, 900), ("Office Chair", 24999, 16000),
      ("Desk Lamp", 4499, 1400), ("Stapler", 1499, 400), ("File Folder Set", 1299, 500), ("Whiteboard", 4999, 4000),
      ("Planner", 2299, 450), ("Label Maker", 3999, 500), ("Monitor Arm", 8999, 3500), ("Standing Desk", 39999, 24000)],
     ["Black", "Blue", "White", "Walnut", "Assorted Colors", "Letter Size", "A5"]),
    ("Pet",
     ["Chew-Proof", "Orthopedic", "Reflective", "Self-Warming", "Interactive", "Durable", "Cozy"],
     [("Dog Leash", 1999, 200), ("Cat Bed", 3499, 900), ("Pet Bowl", 1299, 400), ("Scratching Post", 3999, 4500),
      ("Chew Toy", 999, 150), ("Dog Harness", 2999, 300), ("Pet Carrier", 4999, 1800), ("Treat Pouch", 1299, 120),
      ("Dog Bed", 6999, 3500), ("Litter Box", 2999, 2000)],
     ["Small", "Medium", "Large", "Grey", "Orange", "Navy", "Pink"]),
    ("Pet Food",
     ["Grain-Free", "Senior", "Puppy", "Kitten", "High-Protein", "Healthy Weight"],
     [("Dry Dog Food 12lb", 3499, 5500), ("Dry Cat Food 7lb", 2799, 3200), ("Wet Cat Food 12-Pack", 1899, 1000),
      ("Dog Treats", 999, 450), ("Cat Litter 20lb", 1999, 9100)],
     ["Chicken", "Salmon", "Turkey", "Lamb", "Beef"]),
]
HOT_SKUS = [
    ("HOT-1", 49999, 4500, "Flash Sale: Game Console 1TB"),
    ("HOT-2", 12999, 1100, "Flash Sale: Limited Edition Retro Sneakers"),
    ("HOT-3", 24999, 250, "Flash Sale: Noise-Cancelling Wireless Headphones"),
    ("HOT-4", 8999, 3200, "Flash Sale: Air Fryer 5.8qt"),
    ("HOT-5", 3999, 900, "Flash Sale: Collectible Plush Figure Series 1"),
]


def log_uniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def shop_price(rng, lo, hi):
    """A price in cents around lo..hi ending in 99 (or 49) like a real shelf price."""
    cents = int(log_uniform(rng, lo, hi))
    dollars = max(1, cents // 100)
    ending = 49 if rng.random() < 0.15 else 99
    price = dollars * 100 + ending
    return max(199, min(199999, price))


def build_catalog(rng):
    skus = []
    seen_names = set()
    for number in range(1, REGULAR_SKUS + 1):
        for _ in range(50):
            category, adjectives, nouns, variants = rng.choice(CATEGORIES)
            noun, typical_price, typical_weight = rng.choice(nouns)
            name = "%s %s, %s" % (rng.choice(adjectives), noun, rng.choice(variants))
            if name not in seen_names:
                break
        else:
            name = "%s #%d" % (name, number)
        seen_names.add(name)
        price = shop_price(rng, typical_price * 0.6, typical_price * 1.7)
        weight = max(20, min(25000, int(round(typical_weight * rng.uniform(0.75, 1.3)))))
        skus.append(("SKU-%06d" % number, price, weight, name, category))
    return skus


def build_stock(rng, catalog):
    warehouses = [n[0] for n in NODES if n[1] == "warehouse"]
    stores = [n[0] for n in NODES if n[1] == "store"]
    dropships = [n[0] for n in NODES if n[1] == "dropship"]

    warehouse_lines, store_lines, dropship_lines, hot_lines = [], [], [], []
    for sku, _price, _weight, _name, category in catalog:
        for node in sorted(rng.sample(warehouses, rng.randint(2, 4))):
            # Mostly healthy stock, some items sold out at a node.
            on_hand = 0 if rng.random() < 0.06 else rng.randint(1, 500)
            warehouse_lines.append((node, sku, on_hand, None))
        if rng.random() < 1 / 3:
            for node in sorted(rng.sample(stores, rng.randint(1, 3))):
                on_hand = rng.randint(1, 40)
                safety = rng.choice([1, 2]) if rng.random() < 0.3 else None
                if safety is not None and safety >= on_hand:
                    safety = None  # never hold back a store's whole shelf
                store_lines.append((node, sku, on_hand, safety))
        if category in ("Electronics", "Home", "Kitchen", "Sports", "Pet Food") and rng.random() < 0.25:
            node = rng.choice(dropships)
            dropship_lines.append((node, sku, rng.randint(5000, 50000), None))

    for sku, _price, _weight, _name in HOT_SKUS:
        total = rng.randint(200, 1000)
        nodes = sorted(rng.sample(warehouses, rng.randint(3, 4)))
        cuts = sorted(rng.sample(range(1, total), len(nodes) - 1))
        shares = [b - a for a, b in zip([0] + cuts, cuts + [total])]
        for node, share in zip(nodes, shares):
            hot_lines.append((node, sku, share, None))
    return warehouse_lines, store_lines, dropship_lines, hot_lines


def stock_line(entry):
    node, sku, on_hand, safety = entry
    line = "STOCK.SET %s %s %d" % (node, sku, on_hand)
    if safety is not None:
        line += " safety=%d" % safety
    return line


def quoted(token):
    return '"' + token.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(path, lines):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def main():
    rng = random.Random(SEED)
    os.makedirs(OUT, exist_ok=True)

    network = [
        "# Orderline demo network: warehouses, stores and dropship suppliers in the USA.",
        "# Generated by Data/generate_seed.py; edit the NODES table there, not this file.",
        "# NODE.ADD <node-id> kind=... lat=... lon=... [ship=] [pickup=] [returns=] [capacity=orders/day] [cost=cents]",
    ]
    for kind, title in (("warehouse", "Warehouses"), ("store", "Stores"), ("dropship", "Dropship suppliers")):
        network += ["", "# " + title]
        for node_id, node_kind, lat, lon, options, comment in NODES:
            if node_kind == kind:
                network.append("# " + comment)
                network.append("NODE.ADD %s kind=%s lat=%s lon=%s %s" % (node_id, node_kind, lat, lon, options))
    write(os.path.join(OUT, "01-network.txt"), network)

    catalog = build_catalog(rng)
    lines = [
        "# Orderline demo catalog: %d regular SKUs plus %d flash-sale SKUs." % (len(catalog), len(HOT_SKUS)),
        "# Generated by Data/generate_seed.py (seed %d); do not edit by hand." % SEED,
        "# SKU.ADD <sku-id> price=<cents> weight=<grams> \"name=<text>\"",
        "",
        "# Flash-sale SKUs",
    ]
    for sku, price, weight, name in HOT_SKUS:
        lines.append("SKU.ADD %s price=%d weight=%d %s" % (sku, price, weight, quoted("name=" + name)))
    lines += ["", "# Regular SKUs"]
    for sku, price, weight, name, _category in catalog:
        lines.append("SKU.ADD %s price=%d weight=%d %s" % (sku, price, weight, quoted("name=" + name)))
    write(os.path.join(OUT, "02-catalog.txt"), lines)

    warehouse_lines, store_lines, dropship_lines, hot_lines = build_stock(rng, catalog)
    lines = [
        "# Orderline demo stock levels. Generated by Data/generate_seed.py (seed %d); do not edit by hand." % SEED,
        "# STOCK.SET <node-id> <sku-id> <on_hand> [safety=<units held back>]",
        "",
        "# Flash-sale SKUs: modest stock spread over warehouses",
    ]
    lines += [stock_line(e) for e in hot_lines]
    lines += ["", "# Warehouses: every SKU in 2-4 warehouses"]
    lines += [stock_line(e) for e in warehouse_lines]
    lines += ["", "# Stores: about a third of SKUs in 1-3 stores"]
    lines += [stock_line(e) for e in store_lines]
    lines += ["", "# Dropship suppliers: deep stock on some bulky and electronics SKUs"]
    lines += [stock_line(e) for e in dropship_lines]
    write(os.path.join(OUT, "03-stock.txt"), lines)


if __name__ == "__main__":
    main()
