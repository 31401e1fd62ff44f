-- 0007_products: back to 0006.
DROP TABLE products;
