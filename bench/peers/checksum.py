"""Checksums of gold tables, computed by one tool (DuckDB) for all, so the programs' outputs are
compared as data, not as files. Exits 1 when they differ.

Usage: checksum.py GOLD.parquet...   (a file, or a folder of Parquet files)
"""
import os
import sys

import duckdb

COLS = ("contract::VARCHAR, most_watched::VARCHAR, recency::BIGINT, frequency::BIGINT, monetary::BIGINT, "
        "r_score::BIGINT, f_score::BIGINT, m_score::BIGINT, rfm_code::VARCHAR, segment::VARCHAR")


def checksum(path: str) -> str:
    src = os.path.join(path, "**", "*.parquet") if os.path.isdir(path) else path
    # An order-independent hash sum, and an md5 over the rows sorted by contract (the key).
    count, hsum, md5 = duckdb.connect().execute(f"""
        SELECT count(*), sum(hash({COLS})), md5(string_agg(concat_ws('|', {COLS}), chr(10) ORDER BY contract))
        FROM read_parquet('{src}')""").fetchone()
    return f"rows={count} hashsum={hsum} md5={md5}"


def main() -> None:
    sums = {p: checksum(p) for p in sys.argv[1:]}
    for p, s in sums.items():
        print(f"{s}  {p}")
    if len(set(sums.values())) > 1:
        print("gold outputs differ", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
