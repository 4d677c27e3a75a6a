"""The medallion workload as one DuckDB program, as a DuckDB user would write it.

Usage: medallion_duckdb.py LOGS_DIR RUN_DATE OUT.parquet   (bronze → silver → gold → Parquet)
       medallion_duckdb.py --bronze LOGS_DIR OUT.parquet   (the NDJSON reader alone → Parquet)

Silver and gold are the pipeline's own SQL files (examples/medallion), over views, so DuckDB
plans the whole chain as one query.
"""
import os
import sys

import duckdb

SQL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "medallion")


def bronze_sql(logs: str) -> str:
    # `_source` unnested and the day from the file name, as Polder's source task does (flatten +
    # path_column); the schema is DuckDB's own inference.
    glob = os.path.join(logs, "*.json").replace("'", "''")
    return f"""
        SELECT * EXCLUDE (_source, filename), unnest(_source),
               strptime(regexp_extract(filename, '(\\d{{8}})\\.json$', 1), '%Y%m%d')::DATE AS date
        FROM read_json('{glob}', format = 'newline_delimited', filename = true)"""


def main() -> None:
    con = duckdb.connect()
    if sys.argv[1] == "--bronze":
        logs, out = sys.argv[2], sys.argv[3]
        # LZ4 like Polder's bronze artifact, so the rows compare the readers, not the codecs.
        con.execute(f"COPY ({bronze_sql(logs)}) TO '{out}' (FORMAT parquet, COMPRESSION lz4)")
        return
    logs, run_date, out = sys.argv[1:4]
    silver = open(os.path.join(SQL_DIR, "silver.sql")).read()
    gold = open(os.path.join(SQL_DIR, "gold.sql")).read().replace("{{ run_date }}", run_date)
    con.execute(f"CREATE VIEW bronze AS {bronze_sql(logs)}")
    con.execute(f"CREATE VIEW silver AS {silver}")
    con.execute(f"COPY ({gold}) TO '{out}' (FORMAT parquet)")


if __name__ == "__main__":
    main()
