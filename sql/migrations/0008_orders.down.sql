-- 0008_orders: back to 0007.
DROP TABLE idempotency_keys;
DROP TABLE order_items;
DROP TABLE orders;
