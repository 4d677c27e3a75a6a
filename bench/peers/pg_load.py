"""A folder of Parquet into PostgreSQL, the ways a Polder user would otherwise do it.

  pg_load.py gen DIR ROWS FILES        writes the sales table as FILES Parquet files (Polars, seeded)
  pg_load.py csv DIR CSVDIR            the same rows as CSV files (for the server's own COPY)
  pg_load.py psycopg DIR TABLE         Polars reads each file, writes CSV to memory, psycopg COPYs it
                                       (FORMAT csv) into a new TABLE, in one transaction
  pg_load.py server CSVDIR TABLE       the server's bulk loader: COPY TABLE FROM 'file' (FORMAT csv)
                                       per file, in one transaction (the server reads the files)
  pg_load.py dumpbin TABLE FILE         the server writes TABLE to FILE as binary COPY (COPY TO 'file')
  pg_load.py serverbin FILE TABLE      the server's bulk loader on its own format: COPY TABLE FROM 'FILE'
                                       (FORMAT binary) into a new TABLE, in one transaction
  pg_load.py check TABLE...            count, sums and an order-independent hash of every row, per table
  pg_load.py chcsv DIR CSVDIR          the rows as CSV files ClickHouse 18.16 parses (times without T or fractions)
  pg_load.py pricebits DIR             the sum (mod 2^64) of the prices' 64-bit patterns in the Parquet files

The server comes from PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
"""
import glob
import io
import os
import sys

import polars as pl
import psycopg

DDL = "(id bigint, product text, store integer, qty integer, price double precision, sold_at timestamp, day date)"


def connect():
    return psycopg.connect(
        host=os.environ["PGHOST"], port=os.environ["PGPORT"], user=os.environ["PGUSER"],
        password=os.environ["PGPASSWORD"], dbname=os.environ["PGDATABASE"])


def gen(out, rows, files):
    os.makedirs(out, exist_ok=True)
    per = rows // files
    for f in range(files):
        start = f * per
        n = per if f < files - 1 else rows - start
        ids = pl.int_range(start, start + n, eager=True, dtype=pl.Int64)
        df = pl.DataFrame({"id": ids}).with_columns(
            product=pl.format("product {}", (pl.col("id") * 7919) % 20000),
            store=((pl.col("id") * 31) % 500).cast(pl.Int32),
            qty=((pl.col("id") * 13) % 20 + 1).cast(pl.Int32),
            price=((pl.col("id") * 97) % 100000) / 100.0,
            sold_at=pl.datetime(2024, 1, 1) + pl.duration(seconds=(pl.col("id") * 37) % (365 * 86400)),
        ).with_columns(day=pl.col("sold_at").dt.date())
        df.write_parquet(f"{out}/sales-{f:03}.parquet")


def to_csv(src, out):
    os.makedirs(out, exist_ok=True)
    for path in sorted(glob.glob(f"{src}/*.parquet")):
        pl.read_parquet(path).write_csv(f"{out}/{os.path.basename(path)}.csv", include_header=False)


def to_ch_csv(src, out):
    os.makedirs(out, exist_ok=True)
    for path in sorted(glob.glob(f"{src}/*.parquet")):
        pl.read_parquet(path).write_csv(f"{out}/{os.path.basename(path)}.csv", include_header=False,
                                        datetime_format="%Y-%m-%d %H:%M:%S")


def fresh(cur, table):
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} {DDL}")


def psycopg_load(src, table):
    with connect() as conn, conn.cursor() as cur:
        fresh(cur, table)
        for path in sorted(glob.glob(f"{src}/*.parquet")):
            buf = io.BytesIO()
            pl.read_parquet(path).write_csv(buf, include_header=False)
            with cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getbuffer())
        conn.commit()


def server_load(csvs, table):
    with connect() as conn, conn.cursor() as cur:
        fresh(cur, table)
        for path in sorted(glob.glob(f"{csvs}/*.csv")):
            cur.execute(f"COPY {table} FROM '{path}' (FORMAT csv)")
        conn.commit()


def dump_binary(table, path):
    with connect() as conn, conn.cursor() as cur:
        cur.execute(f"COPY {table} TO '{path}' (FORMAT binary)")


def server_binary_load(path, table):
    with connect() as conn, conn.cursor() as cur:
        fresh(cur, table)
        cur.execute(f"COPY {table} FROM '{path}' (FORMAT binary)")
        conn.commit()


def check(tables):
    with connect() as conn, conn.cursor() as cur:
        for t in tables:
            cur.execute(
                f"SELECT count(*), sum(id), sum(qty), sum(price)::numeric(20,2), sum(hashtext({t}::text)::bigint) FROM {t}")
            print(t, *cur.fetchone())


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "gen":
        gen(args[0], int(args[1]), int(args[2]))
    elif cmd == "csv":
        to_csv(args[0], args[1])
    elif cmd == "psycopg":
        psycopg_load(args[0], args[1])
    elif cmd == "server":
        server_load(args[0], args[1])
    elif cmd == "dumpbin":
        dump_binary(args[0], args[1])
    elif cmd == "serverbin":
        server_binary_load(args[0], args[1])
    elif cmd == "chcsv":
        to_ch_csv(args[0], args[1])
    elif cmd == "pricebits":
        from array import array
        total = 0
        for path in sorted(glob.glob(f"{args[0]}/*.parquet")):
            floats = array("d", pl.read_parquet(path, columns=["price"])["price"].to_list())
            total += sum(array("Q", floats.tobytes()))
        print(total % 2**64)
    elif cmd == "check":
        check(args)
    else:
        sys.exit(f"unknown command {cmd}")
