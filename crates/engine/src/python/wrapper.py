# Polder's entry into a Python task (run by the task's environment's interpreter):
# loads the task's module from its text, calls its function with a lazy scan of each upstream
# output and the run's parameters, writes the returned frame to the output Parquet file, and
# writes what happened to the result file (JSON), errors pointing into the user's code.
import datetime
import json
import linecache
import os
import sys
import traceback
import types


def _write_result(path, result):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, path)


def _param(kind, value):
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value == "true"
    if kind == "date":
        return datetime.date.fromisoformat(value)
    return value


def _user_frames(tb, user_files):
    """The traceback's frames in the user's own files (the task module and modules beside it)."""
    frames = []
    for fs in traceback.extract_tb(tb):
        if fs.filename in user_files or fs.filename.startswith(user_files[1]):
            frames.append(fs)
    return frames


def _column(filename, lineno, colno):
    """The 1-based character column of a frame's 0-based UTF-8 byte offset (None: unknown)."""
    if lineno is None or colno is None:
        return None
    text = linecache.getline(filename, lineno)
    return len(text.encode("utf-8")[:colno].decode("utf-8", "replace")) + 1


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    display = req["display_path"]
    pipeline_dir = req["pipeline_dir"]
    user_files = (display, pipeline_dir.rstrip("/") + "/")
    result_path = req["result"]
    # Helper modules beside the task's file import as in a plain script.
    sys.path.insert(0, pipeline_dir)
    code = req["code"]
    # Tracebacks quote the text that ran (an unsaved notebook cell), not the file on disk.
    linecache.cache[display] = (len(code), None, code.splitlines(True), display)
    stage = "load"
    try:
        import polars as pl

        module = types.ModuleType("polder_task_" + req["task_id"])
        module.__file__ = display
        exec(compile(code, display, "exec"), module.__dict__)
        stage = "call"
        fn = module.__dict__.get(req["function"])
        if not callable(fn):
            raise NameError(f"{os.path.basename(display)} defines no function `{req['function']}`")
        kwargs = {}
        for name, path in req["inputs"]:
            kwargs[name] = pl.scan_parquet(path)
        if req["takes_params"]:
            kwargs["params"] = {name: _param(kind, value) for name, kind, value in req["params"]}
        out = fn(**kwargs)
        stage = "write"
        limit = req.get("limit")
        if isinstance(out, pl.LazyFrame):
            if limit is not None:
                out = out.head(limit)
            out.sink_parquet(req["output"])
        elif isinstance(out, pl.DataFrame):
            if limit is not None:
                out = out.head(limit)
            out.write_parquet(req["output"])
        else:
            kind = type(out)
            what = "None" if out is None else kind.__qualname__ if kind.__module__ == "builtins" else kind.__module__ + "." + kind.__qualname__
            hint = " (pl.from_pandas(df) converts a pandas frame)" if "pandas" in what else ""
            _write_result(
                result_path,
                {
                    "ok": False,
                    "message": f"{req['function']}() returned {what}, not a Polars DataFrame or LazyFrame{hint}",
                    "file": os.path.basename(display),
                    "line": req["def_line"],
                    "traceback": "",
                },
            )
            return 1
        _write_result(result_path, {"ok": True})
        return 0
    except BaseException as e:  # noqa: BLE001 - everything the user's code raises is reported
        frames = _user_frames(e.__traceback__, user_files)
        last = frames[-1] if frames else None
        if isinstance(e, SyntaxError) and e.filename in user_files[:1]:
            # A syntax error's offset is already a 1-based character column.
            file, line, column = e.filename, e.lineno, e.offset
        elif last is not None:
            # Where the failing expression starts (Python 3.11+; older ones give the line only).
            file, line = last.filename, last.lineno
            column = _column(last.filename, last.lineno, getattr(last, "colno", None))
        else:
            file, line, column = None, None, None
        message = "".join(traceback.format_exception_only(type(e), e)).strip()
        # Polars appends the whole resolved plan; the first paragraph says what went wrong.
        message = message.split("\n\nResolved plan", 1)[0].strip()
        if isinstance(e, ModuleNotFoundError):
            message += " (list the package in requirements.txt in the pipeline folder)"
        if stage == "write" and last is None:
            message = f"while writing the returned frame: {message}"
        tb = "".join(traceback.format_list(frames)).rstrip() if frames else ""
        tb = tb.replace('File "' + user_files[1], 'File "')
        if tb:
            tb = "Traceback (your code, most recent call last):\n" + tb
        rel = None
        if file is not None:
            rel = os.path.relpath(file, pipeline_dir) if file.startswith(user_files[1]) else os.path.basename(file)
        _write_result(result_path, {"ok": False, "message": message, "file": rel, "line": line, "column": column, "traceback": tb})
        return 1


if __name__ == "__main__":
    sys.exit(main())
