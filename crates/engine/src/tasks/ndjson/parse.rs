//! One chunk of NDJSON lines → a frame of a known schema, straight from simd-json's tape into
//! Polars builders: no per-row value tree, no `AnyValue`s, unknown keys skipped.
//!
//! It fills only what it fills exactly as Polars' reader would (`polars_io::ndjson`): a value
//! of another JSON type than its column's (which Polars would convert or refuse), a repeated
//! key, a number beyond `i64`, a line that is not an object or not JSON all make the chunk
//! [`Unhandled`], and the caller re-reads that chunk with Polars' own parser.

use polars::prelude::*;
use simd_json::{Node, StaticNode};

/// The chunk holds something only Polars' parser decides (a conversion or an error).
#[derive(Debug)]
pub struct Unhandled;

/// Whether the fast parser fills every column of `schema` itself.
pub fn supported(schema: &Schema) -> bool {
    schema.iter_values().all(supported_dtype)
}

fn supported_dtype(dtype: &DataType) -> bool {
    match dtype {
        DataType::Boolean | DataType::Int64 | DataType::Float64 | DataType::String | DataType::Null => true,
        DataType::Struct(fields) => fields.iter().all(|f| supported_dtype(&f.dtype)),
        _ => false,
    }
}

/// Per-thread buffers reused from line to line and chunk to chunk.
#[derive(Default)]
pub struct Scratch {
    line: Vec<u8>,
    buffers: simd_json::Buffers,
    nodes: Vec<Node<'static>>,
}

/// Whether a line holds anything but blanks (Polars skips the others).
pub fn is_json_line(line: &[u8]) -> bool {
    line.iter().any(|b| !matches!(*b, b' ' | b'\t' | b'\r'))
}

/// Parses the lines of `chunk` into a frame with exactly `schema`'s columns.
pub fn parse_chunk(chunk: &[u8], schema: &Schema, scratch: &mut Scratch) -> Result<DataFrame, Unhandled> {
    let capacity = memchr::memchr_iter(b'\n', chunk).count() + 1;
    let mut row = Fields::new(schema.iter().map(|(n, d)| (n.clone(), d.clone())), capacity);
    let mut nodes = std::mem::take(&mut scratch.nodes);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', chunk).chain(std::iter::once(chunk.len())) {
        let line = &chunk[start..end];
        start = end + 1;
        if !is_json_line(line) {
            continue;
        }
        // simd-json unescapes strings in place: parse a copy, so the chunk stays intact for
        // Polars' parser if this one hands it over.
        scratch.line.clear();
        scratch.line.extend_from_slice(line);
        let mut tape = simd_json::Tape(nodes).reset();
        let filled = match simd_json::fill_tape(&mut scratch.line, &mut scratch.buffers, &mut tape) {
            Ok(()) => row.fill(&tape.0),
            Err(_) => Err(Unhandled),
        };
        nodes = tape.reset().0;
        if filled.is_err() {
            scratch.nodes = nodes;
            return Err(Unhandled);
        }
    }
    scratch.nodes = nodes;
    let height = row.rows;
    let columns = row.finish().map_err(|_| Unhandled)?;
    DataFrame::new(height, columns.into_iter().map(Column::from).collect()).map_err(|_| Unhandled)
}

/// The nodes a value takes on the tape (itself and, for containers, everything inside).
fn span(node: &Node) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// A column being built.
enum Col {
    Bool(BooleanChunkedBuilder),
    Int(PrimitiveChunkedBuilder<Int64Type>),
    Float(PrimitiveChunkedBuilder<Float64Type>),
    Str(StringChunkedBuilder),
    Null(PlSmallStr, usize),
    Struct(PlSmallStr, Box<Fields>, Vec<bool>),
}

impl Col {
    fn new(name: PlSmallStr, dtype: &DataType, capacity: usize) -> Self {
        match dtype {
            DataType::Boolean => Col::Bool(BooleanChunkedBuilder::new(name, capacity)),
            DataType::Int64 => Col::Int(PrimitiveChunkedBuilder::new(name, capacity)),
            DataType::Float64 => Col::Float(PrimitiveChunkedBuilder::new(name, capacity)),
            DataType::String => Col::Str(StringChunkedBuilder::new(name, capacity)),
            DataType::Struct(fields) => {
                let inner = Fields::new(fields.iter().map(|f| (f.name.clone(), f.dtype.clone())), capacity);
                Col::Struct(name, Box::new(inner), Vec::with_capacity(capacity))
            }
            // `supported` let nothing else through.
            _ => Col::Null(name, 0),
        }
    }

    fn push_null(&mut self) {
        match self {
            Col::Bool(b) => b.append_null(),
            Col::Int(b) => b.append_null(),
            Col::Float(b) => b.append_null(),
            Col::Str(b) => b.append_null(),
            Col::Null(_, n) => *n += 1,
            Col::Struct(_, fields, valid) => {
                valid.push(false);
                fields.fill_nulls();
            }
        }
    }

    /// Appends the value at the start of `value` (its whole span).
    #[inline]
    fn push(&mut self, value: &[Node]) -> Result<(), Unhandled> {
        match (self, &value[0]) {
            (col, Node::Static(StaticNode::Null)) => col.push_null(),
            (Col::Int(b), Node::Static(StaticNode::I64(v))) => b.append_value(*v),
            // simd-json types every non-negative integer U64.
            (Col::Int(b), Node::Static(StaticNode::U64(v))) if *v <= i64::MAX as u64 => b.append_value(*v as i64),
            (Col::Float(b), Node::Static(StaticNode::F64(v))) => b.append_value(*v),
            (Col::Float(b), Node::Static(StaticNode::I64(v))) => b.append_value(*v as f64),
            (Col::Float(b), Node::Static(StaticNode::U64(v))) => b.append_value(*v as f64),
            (Col::Str(b), Node::String(s)) => b.append_value(s),
            (Col::Bool(b), Node::Static(StaticNode::Bool(v))) => b.append_value(*v),
            (Col::Struct(_, fields, valid), Node::Object { .. }) => {
                valid.push(true);
                fields.fill(value)?;
            }
            _ => return Err(Unhandled),
        }
        Ok(())
    }

    fn finish(self) -> PolarsResult<Series> {
        Ok(match self {
            Col::Bool(b) => b.finish().into_series(),
            Col::Int(b) => b.finish().into_series(),
            Col::Float(b) => b.finish().into_series(),
            Col::Str(b) => b.finish().into_series(),
            Col::Null(name, n) => Series::full_null(name, n, &DataType::Null),
            Col::Struct(name, fields, valid) => {
                let height = fields.rows;
                let series = fields.finish()?;
                let ca = StructChunked::from_series(name, height, series.iter())?;
                let validity = valid.iter().any(|v| !v).then(|| valid.into_iter().collect());
                ca.with_outer_validity(validity).into_series()
            }
        })
    }
}

/// The columns of one object level (the line itself, or a struct inside it).
struct Fields {
    names: Vec<PlSmallStr>,
    cols: Vec<Col>,
    /// The row (1-based) each column was last set in: a missing key gets a null, a repeated
    /// one hands the chunk to Polars.
    set_in: Vec<usize>,
    /// Where the next key is looked up first: keys usually come in the inferred order.
    next: usize,
    rows: usize,
}

impl Fields {
    fn new(fields: impl Iterator<Item = (PlSmallStr, DataType)>, capacity: usize) -> Self {
        let (names, cols): (Vec<_>, Vec<_>) = fields.map(|(n, d)| (n.clone(), Col::new(n, &d, capacity))).unzip();
        Fields { set_in: vec![0; names.len()], names, cols, next: 0, rows: 0 }
    }

    #[inline]
    fn find(&mut self, key: &str) -> Option<usize> {
        let n = self.names.len();
        if self.next < n && self.names[self.next] == key {
            return Some(self.next);
        }
        let at = self.names.iter().position(|k| k == key)?;
        Some(at)
    }

    /// Fills one row from the object at the start of `nodes`.
    fn fill(&mut self, nodes: &[Node]) -> Result<(), Unhandled> {
        let Node::Object { len, .. } = nodes[0] else { return Err(Unhandled) };
        let row = self.rows + 1;
        let mut at = 1;
        for _ in 0..len {
            let Node::String(key) = nodes[at] else { return Err(Unhandled) };
            at += 1;
            let width = span(&nodes[at]);
            if let Some(c) = self.find(key) {
                if self.set_in[c] == row {
                    return Err(Unhandled);
                }
                self.set_in[c] = row;
                self.cols[c].push(&nodes[at..at + width])?;
                self.next = c + 1;
            }
            at += width;
        }
        for (c, col) in self.cols.iter_mut().enumerate() {
            if self.set_in[c] != row {
                col.push_null();
            }
        }
        self.next = 0;
        self.rows = row;
        Ok(())
    }

    fn fill_nulls(&mut self) {
        for col in &mut self.cols {
            col.push_null();
        }
        self.rows += 1;
    }

    fn finish(self) -> PolarsResult<Vec<Series>> {
        self.cols.into_iter().map(Col::finish).collect()
    }
}
