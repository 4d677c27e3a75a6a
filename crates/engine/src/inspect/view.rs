//! Server-side views of an output for grids: sort and filter, paged as JSON or Arrow IPC, with
//! a small cache of materialized views so paging a sorted 10M-row output sorts it once.

use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::tasks::Input;

use super::frame_json;

/// How to order and filter an output before paging it (server-side, for grids).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// (column, descending), applied in order.
    pub sort: Vec<(String, bool)>,
    /// Conditions, all of which a row must meet.
    pub filters: Vec<Filter>,
}

/// One condition on a column.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The column.
    pub column: String,
    /// The comparison.
    pub op: FilterOp,
    /// The value compared with (text; cast to the column's type). Unused by the null tests.
    pub value: String,
}

/// Comparisons a grid filter can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// At most.
    Le,
    /// Greater than.
    Gt,
    /// At least.
    Ge,
    /// The text contains the value (literal, case-sensitive).
    Contains,
    /// Null.
    IsNull,
    /// Not null.
    NotNull,
}

impl FilterOp {
    /// The operator as written in a filter (`lt`, `contains`, …).
    pub fn name(self) -> &'static str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::Ne => "ne",
            FilterOp::Lt => "lt",
            FilterOp::Le => "le",
            FilterOp::Gt => "gt",
            FilterOp::Ge => "ge",
            FilterOp::Contains => "contains",
            FilterOp::IsNull => "is_null",
            FilterOp::NotNull => "not_null",
        }
    }
}

impl View {
    /// True when the view neither sorts nor filters.
    pub fn is_empty(&self) -> bool {
        self.sort.is_empty() && self.filters.is_empty()
    }

    /// Parses `sort=col:asc,col2:desc` and `filter=col:op:value` (repeatable) query values.
    pub fn parse(sort: Option<&str>, filters: &[String]) -> Result<View> {
        let mut view = View::default();
        for part in sort.unwrap_or("").split(',').filter(|p| !p.is_empty()) {
            let (col, dir) = part.rsplit_once(':').unwrap_or((part, "asc"));
            let desc = match dir {
                "asc" => false,
                "desc" => true,
                other => return Err(Error::Invalid(format!("sort direction `{other}` for `{col}`: use asc or desc"))),
            };
            view.sort.push((col.to_string(), desc));
        }
        for f in filters {
            let mut it = f.splitn(3, ':');
            let (column, op, value) = (it.next().unwrap_or(""), it.next().unwrap_or(""), it.next().unwrap_or(""));
            let op = match op {
                "eq" => FilterOp::Eq,
                "ne" => FilterOp::Ne,
                "lt" => FilterOp::Lt,
                "le" => FilterOp::Le,
                "gt" => FilterOp::Gt,
                "ge" => FilterOp::Ge,
                "contains" => FilterOp::Contains,
                "is_null" => FilterOp::IsNull,
                "not_null" => FilterOp::NotNull,
                other => {
                    return Err(Error::Invalid(format!(
                        "filter `{f}`: unknown operator `{other}`; use column:op:value with eq, ne, lt, le, gt, ge, contains, is_null, not_null"
                    )))
                }
            };
            view.filters.push(Filter { column: column.to_string(), op, value: value.to_string() });
        }
        Ok(view)
    }

    /// Applies the view to an output's frame; unknown columns are errors naming the columns there are.
    pub fn apply(&self, lf: LazyFrame) -> Result<LazyFrame> {
        if self.sort.is_empty() && self.filters.is_empty() {
            return Ok(lf);
        }
        let mut lf = lf;
        let schema = lf.collect_schema().map_err(|e| Error::Invalid(format!("cannot read the schema: {e}")))?;
        let check = |c: &str| -> Result<DataType> {
            schema.get(c).cloned().ok_or_else(|| {
                let names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
                Error::Invalid(format!("no column `{c}`; columns: {}", names.join(", ")))
            })
        };
        for f in &self.filters {
            let dtype = check(&f.column)?;
            let c = col(f.column.as_str());
            // Check the value fits the column now, so a mistyped filter gets a short message
            // instead of a failed query plan.
            let compares = !matches!(f.op, FilterOp::Contains | FilterOp::IsNull | FilterOp::NotNull);
            if compares && Series::new("v".into(), [f.value.as_str()]).strict_cast(&dtype).is_err() {
                return Err(Error::Invalid(format!(
                    "filter `{} {} {}`: \"{}\" is not a valid {dtype} value for column `{}`",
                    f.column,
                    f.op.name(),
                    f.value,
                    f.value,
                    f.column
                )));
            }
            let v = || lit(f.value.clone()).strict_cast(dtype.clone());
            let pred = match f.op {
                FilterOp::Eq => c.eq(v()),
                FilterOp::Ne => c.neq(v()),
                FilterOp::Lt => c.lt(v()),
                FilterOp::Le => c.lt_eq(v()),
                FilterOp::Gt => c.gt(v()),
                FilterOp::Ge => c.gt_eq(v()),
                FilterOp::Contains => c.cast(DataType::String).str().contains_literal(lit(f.value.clone())),
                FilterOp::IsNull => c.is_null(),
                FilterOp::NotNull => c.is_not_null(),
            };
            lf = lf.filter(pred);
        }
        if !self.sort.is_empty() {
            for (c, _) in &self.sort {
                check(c)?;
            }
            let cols: Vec<Expr> = self.sort.iter().map(|(c, _)| col(c.as_str())).collect();
            let desc: Vec<bool> = self.sort.iter().map(|(_, d)| *d).collect();
            let opts =
                SortMultipleOptions::default().with_order_descending_multi(desc).with_nulls_last(true).with_maintain_order(true);
            lf = lf.sort_by_exprs(cols, opts);
        }
        Ok(lf)
    }
}

/// Materialized sorted/filtered views, newest first, bounded by total estimated bytes.
/// Artifacts are immutable, so an input's identity plus the view is a sound key.
pub struct ViewCache {
    entries: Mutex<Vec<(String, Arc<DataFrame>)>>,
    budget_bytes: usize,
}

impl ViewCache {
    /// A cache holding at most `budget_bytes` of frames (the newest view is always kept).
    pub fn new(budget_bytes: usize) -> ViewCache {
        ViewCache { entries: Mutex::new(Vec::new()), budget_bytes }
    }

    fn get(&self, key: &str) -> Option<Arc<DataFrame>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let pos = entries.iter().position(|(k, _)| k == key)?;
        let hit = entries.remove(pos);
        let df = hit.1.clone();
        entries.insert(0, hit);
        Some(df)
    }

    fn put(&self, key: String, df: Arc<DataFrame>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(k, _)| *k != key);
        entries.insert(0, (key, df));
        let mut used = 0;
        let mut keep = 0;
        for (_, df) in entries.iter() {
            used += df.estimated_size();
            if keep > 0 && used > self.budget_bytes {
                break;
            }
            keep += 1;
        }
        entries.truncate(keep);
    }

    /// Number of cached views.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A stable identity of an input: the artifact path, or a view's task and its inputs.
fn input_key(input: &Input) -> String {
    match input {
        Input::Artifact(p) => p.display().to_string(),
        Input::View(v) => {
            let ups: Vec<String> = v.upstream.iter().map(|(k, i)| format!("{k}={}", input_key(i))).collect();
            format!("view:{}:{:?}:{:?}:[{}]", v.id, v.kind, v.files, ups.join(","))
        }
    }
}

/// Rows `offset..offset+limit` of an output seen through `view`, and the row count after
/// filtering. Without sort or filter the slice is pushed into the scan and the count comes from
/// file metadata, so the rest of the artifact is not read. A sorted or filtered view is
/// materialized once and kept in `cache`, so later pages are slices of it.
fn view_slice(input: &Input, view: &View, offset: usize, limit: usize, cache: Option<&ViewCache>) -> Result<(DataFrame, u64)> {
    let err = |e: PolarsError| Error::Invalid(format!("cannot read the output: {e}"));
    let limit = limit.min(IdxSize::MAX as usize) as IdxSize;
    if let (Some(cache), false) = (cache, view.is_empty()) {
        let key = format!("{}|{view:?}", input_key(input));
        let df = match cache.get(&key) {
            Some(df) => df,
            None => {
                let df = Arc::new(view.apply(input.lazy()?)?.collect().map_err(err)?);
                cache.put(key, df.clone());
                df
            }
        };
        let total = df.height() as u64;
        return Ok((df.slice(offset as i64, limit as usize), total));
    }
    let lf = view.apply(input.lazy()?)?;
    let counted = lf.clone().select([len()]).collect().map_err(err)?;
    let total = counted.column("len").and_then(|c| c.get(0)).map_err(err)?.extract::<u64>().unwrap_or(0);
    Ok((lf.slice(offset as i64, limit).collect().map_err(err)?, total))
}

/// A page of an output seen through `view`, as JSON objects, with the filtered row count.
pub fn page_json(
    input: &Input,
    view: &View,
    offset: usize,
    limit: usize,
    cache: Option<&ViewCache>,
) -> Result<(Vec<serde_json::Map<String, serde_json::Value>>, u64)> {
    let (df, total) = view_slice(input, view, offset, limit, cache)?;
    Ok((frame_json(&df)?, total))
}

/// A page of an output seen through `view`, as an uncompressed Arrow IPC stream (apache-arrow's
/// `tableFromIPC` or `RecordBatchReader` read it; compressed IPC it cannot), with the filtered
/// row count.
pub fn page_ipc(input: &Input, view: &View, offset: usize, limit: usize, cache: Option<&ViewCache>) -> Result<(Vec<u8>, u64)> {
    let (mut df, total) = view_slice(input, view, offset, limit, cache)?;
    let mut buf = Vec::new();
    IpcStreamWriter::new(&mut buf).finish(&mut df).map_err(|e| Error::Invalid(format!("cannot encode the page: {e}")))?;
    Ok((buf, total))
}

/// File formats an output view can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// Parquet.
    Parquet,
}

impl ExportFormat {
    /// Parses `csv` or `parquet`.
    pub fn parse(s: &str) -> Result<ExportFormat> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "parquet" => Ok(ExportFormat::Parquet),
            other => Err(Error::Invalid(format!("export format `{other}`: use csv or parquet"))),
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
        }
    }
}

/// Writes the whole output seen through `view` to `path` (streaming where the plan allows).
pub fn export(input: &Input, view: &View, format: ExportFormat, path: &std::path::Path) -> Result<()> {
    let lf = view.apply(input.lazy()?)?;
    let written = match format {
        ExportFormat::Csv => crate::tasks::frame::sink_csv(lf, path),
        ExportFormat::Parquet => crate::tasks::frame::sink_parquet(lf, path),
    };
    written.map_err(|e| Error::Invalid(format!("cannot export the output: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: i64) -> Arc<DataFrame> {
        Arc::new(df!("x" => (0..n).collect::<Vec<i64>>()).unwrap())
    }

    #[test]
    fn cache_keeps_the_newest_views_within_its_budget() {
        let one = frame(1000).estimated_size();
        let cache = ViewCache::new(one * 2);
        cache.put("a".into(), frame(1000));
        cache.put("b".into(), frame(1000));
        assert!(cache.get("a").is_some(), "a is now the newest");
        cache.put("c".into(), frame(1000));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b").is_none(), "the least recently used view goes first");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        // A view larger than the budget is still kept (alone), so its pages are fast.
        cache.put("big".into(), frame(10_000));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get("big").unwrap().height(), 10_000);
    }

    #[test]
    fn sorted_pages_come_from_one_materialized_view() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.parquet");
        let lf = df!("x" => [3i64, 1, 2, 5, 4]).unwrap().lazy();
        crate::tasks::frame::sink_parquet(lf, &path).unwrap();
        let input = Input::Artifact(path);
        let view = View::parse(Some("x:desc"), &["x:gt:1".to_string()]).unwrap();
        let cache = ViewCache::new(1 << 20);
        let (first, total) = page_json(&input, &view, 0, 2, Some(&cache)).unwrap();
        let (second, _) = page_json(&input, &view, 2, 2, Some(&cache)).unwrap();
        assert_eq!(total, 4);
        let xs: Vec<i64> = first.iter().chain(&second).map(|r| r["x"].as_i64().unwrap()).collect();
        assert_eq!(xs, [5, 4, 3, 2]);
        assert_eq!(cache.len(), 1);
        // A value that does not fit the column's type is refused with a short message.
        let bad = View::parse(None, &["x:lt:abc".to_string()]).unwrap();
        let err = page_json(&input, &bad, 0, 2, Some(&cache)).unwrap_err().to_string();
        assert_eq!(err, "filter `x lt abc`: \"abc\" is not a valid i64 value for column `x`");
        // The unsorted view is not cached: it pages straight from the file.
        page_json(&input, &View::default(), 0, 2, Some(&cache)).unwrap();
        assert_eq!(cache.len(), 1);
    }
}
