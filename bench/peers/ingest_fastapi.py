"""The peer of Polder's REST ingest, written the way a Python team writes it (and the way the seed
project did): FastAPI + uvicorn, rows checked by a pydantic model with the dataset's columns,
appended to an in-memory buffer per dataset, and a background task that turns the buffer into a
Polars frame and writes day-partitioned Parquet every `max_age_secs` seconds or `max_rows` rows,
like Polder's `[flush]` (`<out>/<dataset>/day=YYYY-MM-DD/part-N.parquet`).

Unlike Polder, it answers 200 before anything is durable: rows acknowledged since the last flush
live only in this process's memory and are lost if it stops or crashes. Polder answers only after
the rows are fsynced into its write-ahead log.

Run: python bench/peers/ingest_fastapi.py --out DIR --port PORT [--token T] [--workers N]
(POST /ingest/{dataset} with a JSON object or array; POST /flush/{dataset} flushes now.)
"""

import argparse
import asyncio
import contextlib
import itertools
import os
from collections import defaultdict
from datetime import datetime

import polars as pl
import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

OUT = os.environ.get("INGEST_OUT", "lake")
TOKEN = os.environ.get("INGEST_TOKEN", "")
MAX_ROWS = int(os.environ.get("INGEST_MAX_ROWS", "100000"))
MAX_AGE_SECS = float(os.environ.get("INGEST_MAX_AGE_SECS", "5"))


class Event(BaseModel):
    """The dataset's columns (Polder: id i64 not null, ts timestamp not null, user str, amount f64)."""

    id: int
    ts: datetime
    user: str | None = None
    amount: float | None = None


SCHEMA = {"id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "user": pl.String, "amount": pl.Float64}
DATASETS = {"events": Event}

buffers: dict[str, list[dict]] = defaultdict(list)
locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
part = itertools.count()


def write_parquet(dataset: str, rows: list[dict]) -> int:
    df = pl.DataFrame(rows, schema=SCHEMA)
    for (day,), frame in df.group_by(pl.col("ts").dt.date()):
        folder = os.path.join(OUT, dataset, f"day={day}")
        os.makedirs(folder, exist_ok=True)
        frame.write_parquet(os.path.join(folder, f"part-{os.getpid()}-{next(part):06d}.parquet"))
    return df.height


async def flush(dataset: str) -> int:
    async with locks[dataset]:
        rows, buffers[dataset] = buffers[dataset], []
        if not rows:
            return 0
        # Off the event loop, so requests keep being answered while Parquet is written.
        return await asyncio.to_thread(write_parquet, dataset, rows)


async def flusher() -> None:
    while True:
        await asyncio.sleep(MAX_AGE_SECS)
        for dataset in list(buffers):
            await flush(dataset)


@contextlib.asynccontextmanager
async def lifespan(_app: FastAPI):
    task = asyncio.create_task(flusher())
    yield
    task.cancel()
    for dataset in list(buffers):
        await flush(dataset)


app = FastAPI(lifespan=lifespan)


def check_token(authorization: str = Header("")) -> None:
    if authorization != f"Bearer {TOKEN}":
        raise HTTPException(status_code=401, detail="bad token")


@app.post("/ingest/{dataset}", dependencies=[Depends(check_token)])
async def ingest(dataset: str, body: list[Event] | Event) -> dict:
    if dataset not in DATASETS:
        raise HTTPException(status_code=404, detail=f"no dataset {dataset}")
    events = body if isinstance(body, list) else [body]
    buffer = buffers[dataset]
    buffer.extend(e.model_dump() for e in events)
    if len(buffer) >= MAX_ROWS:
        asyncio.create_task(flush(dataset))
    return {"accepted": len(events)}


@app.post("/flush/{dataset}", dependencies=[Depends(check_token)])
async def flush_now(dataset: str) -> dict:
    return {"rows": await flush(dataset)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    # Settings go through the environment so that uvicorn's worker processes see them too.
    os.environ.update(INGEST_OUT=a.out, INGEST_TOKEN=a.token or TOKEN)
    uvicorn.run("ingest_fastapi:app", host="127.0.0.1", port=a.port, workers=a.workers,
                access_log=False, log_level="warning", app_dir=os.path.dirname(os.path.abspath(__file__)))
