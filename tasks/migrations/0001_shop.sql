-- The shop's schema. Times are Unix milliseconds.

-- Stock of each SKU: `available + reserved = stocked` at all times.
CREATE TABLE skus (
    sku INTEGER PRIMARY KEY,
    available INTEGER NOT NULL CHECK (available >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    stocked INTEGER NOT NULL,
    price_cents INTEGER NOT NULL,
    price_synced_at_ms INTEGER
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    sku INTEGER NOT NULL REFERENCES skus (sku),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    status TEXT NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'paid', 'closed')),
    -- Whether the order's items are held (taken off `available`, counted in `reserved`).
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved IN (0, 1)),
    pay_by_ms INTEGER NOT NULL,
    closed_at_ms INTEGER
);

-- What `order.timeout_close` scans: only open orders, by deadline.
CREATE INDEX orders_unpaid_by_deadline ON orders (pay_by_ms) WHERE status = 'unpaid';

-- What the payment provider reported (its callback writes here); `payment.notify` reads it.
CREATE TABLE payments (
    order_id INTEGER PRIMARY KEY REFERENCES orders (id),
    paid_at_ms INTEGER NOT NULL
);

CREATE TABLE shipments (
    order_id INTEGER PRIMARY KEY REFERENCES orders (id),
    synced_at_ms INTEGER NOT NULL
);

-- One award per order: the primary key makes a repeated award a no-op.
CREATE TABLE points (
    order_id INTEGER PRIMARY KEY REFERENCES orders (id),
    user_id INTEGER NOT NULL,
    points INTEGER NOT NULL
);

CREATE TABLE campaigns (
    name TEXT PRIMARY KEY,
    -- Users 1..=users get the campaign's coupon.
    users INTEGER NOT NULL CHECK (users >= 0),
    batch_size INTEGER NOT NULL CHECK (batch_size > 0),
    -- The resume point: every user below it has the coupon.
    next_user INTEGER NOT NULL DEFAULT 1
);

-- The primary key is what makes a coupon exactly-once: a batch run twice inserts nothing new.
CREATE TABLE coupons (
    campaign TEXT NOT NULL REFERENCES campaigns (name),
    user_id INTEGER NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    PRIMARY KEY (campaign, user_id)
) WITHOUT ROWID;

-- One row per `price.sync` run.
CREATE TABLE price_syncs (
    run INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    skus INTEGER NOT NULL
);
