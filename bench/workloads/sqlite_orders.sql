-- sqlite_orders: the sqlite3 workload of bench/run.
--
-- Fills an orders table with 200k generated rows in one transaction,
-- indexes it, then runs aggregate queries (GROUP BY, ORDER BY, DISTINCT,
-- a join against a grouped subquery). Rows come from a multiplicative
-- hash of the row number, not random(), so every run prints the same.
--
-- Run:   sqlite3 :memory: < sqlite_orders.sql
-- Fewer rows (bench/run --quick):
--        sqlite3 -cmd '.parameter set @rows 20000' :memory: < sqlite_orders.sql

CREATE TABLE orders(
	id       INTEGER PRIMARY KEY,
	customer TEXT NOT NULL,
	region   TEXT NOT NULL,
	product  TEXT NOT NULL,
	qty      INTEGER NOT NULL,
	price    REAL NOT NULL,
	day      TEXT NOT NULL,
	note     TEXT
);

BEGIN;
WITH RECURSIVE
	n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < coalesce(@rows, 200000)),
	r(x, h) AS (SELECT x, (x * 2654435761) % 4294967296 FROM n)
INSERT INTO orders(id, customer, region, product, qty, price, day, note)
SELECT x,
	printf('cust%05d', h / 3 % 20000),
	CASE h % 5 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east'
		WHEN 3 THEN 'west' ELSE 'central' END,
	'sku-' || (h / 7 % 500),
	1 + h / 13 % 20,
	round((h / 17 % 100000) / 100.0, 2),
	date('2023-01-01', '+' || (h / 19 % 365) || ' days'),
	CASE WHEN h % 3 = 0 THEN printf('gift wrap %d for %s', h % 97, upper(printf('cust%05d', h / 3 % 20000))) END
FROM r;
COMMIT;

CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_region_day ON orders(region, day);

.mode list
.separator ' '

SELECT 'rows', count(*), sum(qty), round(sum(qty * price), 2) FROM orders;

SELECT region, count(*), sum(qty), round(sum(qty * price), 2)
FROM orders GROUP BY region ORDER BY region;

SELECT customer, count(*) AS n, round(sum(qty * price), 2) AS total
FROM orders GROUP BY customer ORDER BY total DESC, customer LIMIT 10;

SELECT substr(day, 1, 7) AS month, count(*), round(avg(price), 2), max(qty)
FROM orders GROUP BY month ORDER BY month;

SELECT product, count(DISTINCT customer) AS buyers, group_concat(DISTINCT region)
FROM orders GROUP BY product ORDER BY buyers DESC, product LIMIT 10;

SELECT o.region, count(*), round(avg(o.qty), 3)
FROM orders AS o
JOIN (SELECT customer FROM orders GROUP BY customer HAVING count(*) >= 12) AS big
	USING (customer)
GROUP BY o.region ORDER BY o.region;

SELECT length(note) AS len, count(*)
FROM orders WHERE note LIKE 'gift wrap 1%' GROUP BY len ORDER BY len;
