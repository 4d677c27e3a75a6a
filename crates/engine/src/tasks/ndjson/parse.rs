//! One chunk of NDJSON lines → a frame of a known schema, straight from the text into Polars
//! builders ([`scan`]): no per-row value tree, no `AnyValue`s, unknown keys skipped unbuilt.
//!
//! It fills only what it fills exactly as Polars' reader would (`polars_io::ndjson`): a value
//! of another JSON type than its column's (which Polars would convert or refuse), a repeated
//! key, a number beyond `i64`, a line that is not an object or not JSON all make the chunk
//! [`Unhandled`], and the caller re-reads that chunk with Polars' own parser.

use polars::prelude::*;
use polars_arrow::array::{Utf8ViewArray, View};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

use super::scan::{Cursor, KeyPattern, Kind, Number};

/// The chunk holds something only Polars' parser decides (a conversion or an error).
#[derive(Debug, PartialEq, Eq)]
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

/// Per-thread buffers reused from chunk to chunk.
#[derive(Default)]
pub struct Scratch {
    /// Unescaped keys and strings.
    text: String,
    /// Bytes per row of the last chunk, to size the next one's builders without counting its lines.
    bytes_per_row: Option<usize>,
}

/// Whether a line holds anything but blanks (Polars skips the others).
pub fn is_json_line(line: &[u8]) -> bool {
    line.iter().any(|b| !matches!(*b, b' ' | b'\t' | b'\r'))
}

/// Parses the lines of `chunk` into a frame with exactly `schema`'s columns.
pub fn parse_chunk(chunk: &[u8], schema: &Schema, scratch: &mut Scratch) -> Result<DataFrame, Unhandled> {
    // Checked once here, so every string the scanner cuts at a quote is valid UTF-8 (simd-json
    // refuses invalid UTF-8; Polars' parser then reports it).
    let text = simdutf8::basic::from_utf8(chunk).map_err(|_| Unhandled)?;
    let capacity = match scratch.bytes_per_row {
        // A little over the estimate: builders that must grow copy what they hold.
        Some(per_row) => chunk.len() / per_row.max(1) * 9 / 8 + 16,
        None => memchr::memchr_iter(b'\n', chunk).count() + 1,
    };
    let mut row = Fields::new(schema.iter().map(|(n, d)| (n.clone(), d.clone())), capacity);
    let mut cursor = Cursor::new(text);
    loop {
        cursor.blank_lines();
        if cursor.at_end() {
            break;
        }
        if cursor.kind()? != Kind::Object {
            return Err(Unhandled);
        }
        row.fill(&mut cursor, &mut scratch.text)?;
        // The object must end its line.
        cursor.blanks();
        if !(cursor.at_end() || cursor.eat(b'\n')) {
            return Err(Unhandled);
        }
    }
    let height = row.rows;
    if let Some(per_row) = chunk.len().checked_div(height) {
        scratch.bytes_per_row = Some(per_row);
    }
    let columns = row.finish().map_err(|_| Unhandled)?;
    DataFrame::new(height, columns.into_iter().map(Column::from).collect()).map_err(|_| Unhandled)
}

/// A column being built.
enum Col {
    Bool(BooleanChunkedBuilder),
    Int(PrimitiveChunkedBuilder<Int64Type>),
    Float(PrimitiveChunkedBuilder<Float64Type>),
    Str(Strings),
    Null(PlSmallStr, usize),
    Struct(PlSmallStr, Box<Fields>, Vec<bool>),
}

impl Col {
    fn new(name: PlSmallStr, dtype: &DataType, capacity: usize) -> Self {
        match dtype {
            DataType::Boolean => Col::Bool(BooleanChunkedBuilder::new(name, capacity)),
            DataType::Int64 => Col::Int(PrimitiveChunkedBuilder::new(name, capacity)),
            DataType::Float64 => Col::Float(PrimitiveChunkedBuilder::new(name, capacity)),
            DataType::String => Col::Str(Strings::new(name, capacity)),
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
            Col::Str(b) => b.push_null(),
            Col::Null(_, n) => *n += 1,
            Col::Struct(_, fields, valid) => {
                valid.push(false);
                fields.fill_nulls();
            }
        }
    }

    /// Appends the value that comes next at `cursor`.
    #[inline]
    fn push(&mut self, cursor: &mut Cursor, text: &mut String) -> Result<(), Unhandled> {
        match (self, cursor.kind()?) {
            (col, Kind::Null) => {
                cursor.literal("null")?;
                col.push_null();
            }
            (Col::Int(b), Kind::Number) => match cursor.number()? {
                Number::Int(v) => b.append_value(v),
                // Polars' parser decides what a float or a number beyond i64 becomes.
                _ => return Err(Unhandled),
            },
            (Col::Float(b), Kind::Number) => match cursor.number()? {
                Number::Float(v) => b.append_value(v),
                Number::Int(v) => b.append_value(v as f64),
                Number::UInt(v) => b.append_value(v as f64),
            },
            (Col::Str(b), Kind::String) => match cursor.short_string_view() {
                Some(view) => b.push_view(view),
                None => b.push(cursor.string(text)?),
            },
            (Col::Bool(b), Kind::True) => {
                cursor.literal("true")?;
                b.append_value(true);
            }
            (Col::Bool(b), Kind::False) => {
                cursor.literal("false")?;
                b.append_value(false);
            }
            (Col::Struct(_, fields, valid), Kind::Object) => {
                valid.push(true);
                fields.fill(cursor, text)?;
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
            Col::Str(b) => b.finish(),
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

/// A string column written as Arrow views straight from the text: a value of up to 12 bytes is
/// its own view, most often cut from the text in one load ([`Cursor::short_string_view`]); a
/// longer one is copied into the column's buffer. Polars' `StringChunkedBuilder` takes no ready
/// view, and its `MutableBinaryViewArray::push_view` took 104 ns a row where this takes 88-93
/// (one day file of logs, one thread; `StringChunkedBuilder` alone: 99).
struct Strings {
    name: PlSmallStr,
    views: Vec<View>,
    /// Filled buffers (a buffer's offsets are u32) and the one being filled.
    done: Vec<Buffer<u8>>,
    buffer: Vec<u8>,
    /// None until the first null (most log columns have none).
    validity: Option<MutableBitmap>,
    /// Bytes of all values.
    total: usize,
}

impl Strings {
    fn new(name: PlSmallStr, capacity: usize) -> Self {
        Strings { name, views: Vec::with_capacity(capacity), done: Vec::new(), buffer: Vec::new(), validity: None, total: 0 }
    }

    #[inline]
    fn push(&mut self, value: &str) {
        let bytes = value.as_bytes();
        let view = if bytes.len() <= View::MAX_INLINE_SIZE as usize { View::new_inline(bytes) } else { self.push_long(bytes) };
        self.push_view(view);
    }

    /// Appends a value by its view (an inline one, or one `push_long` made).
    #[inline]
    fn push_view(&mut self, view: View) {
        self.total += view.length as usize;
        self.views.push(view);
        if let Some(bits) = &mut self.validity {
            bits.push(true);
        }
    }

    fn push_long(&mut self, bytes: &[u8]) -> View {
        if self.buffer.len() + bytes.len() > u32::MAX as usize {
            self.done.push(std::mem::take(&mut self.buffer).into());
        }
        let offset = self.buffer.len() as u32;
        self.buffer.extend_from_slice(bytes);
        View::new_from_bytes(bytes, self.done.len() as u32, offset)
    }

    fn push_null(&mut self) {
        let rows = self.views.len();
        let capacity = self.views.capacity();
        let bits = self.validity.get_or_insert_with(|| {
            let mut bits = MutableBitmap::with_capacity(capacity.max(rows + 1));
            bits.extend_constant(rows, true);
            bits
        });
        bits.push(false);
        self.views.push(View::default());
    }

    fn finish(mut self) -> Series {
        if !self.buffer.is_empty() {
            self.done.push(self.buffer.into());
        }
        let buffered = self.done.iter().map(|b| b.len()).sum();
        // SAFETY: the values are slices of text checked to be UTF-8, and each long one's view
        // points where it was copied.
        let array = unsafe {
            Utf8ViewArray::new_unchecked(
                ArrowDataType::Utf8View,
                self.views.into(),
                self.done.into(),
                self.validity.map(Into::into),
                Some(self.total),
                buffered,
            )
        };
        StringChunked::with_chunk(self.name, array).into_series()
    }
}

/// The columns of one object level (the line itself, or a struct inside it).
struct Fields {
    names: Vec<PlSmallStr>,
    cols: Vec<Col>,
    /// The row (1-based) each column was last set in: a missing key gets a null, a repeated
    /// one hands the chunk to Polars.
    set_in: Vec<usize>,
    /// The keys of the last row in their order, each with the column it filled (None: skipped),
    /// so a row spelled like the one before is read without parsing its keys.
    template: Vec<Option<(KeyPattern, Option<usize>)>>,
    rows: usize,
}

impl Fields {
    fn new(fields: impl Iterator<Item = (PlSmallStr, DataType)>, capacity: usize) -> Self {
        let (names, cols): (Vec<_>, Vec<_>) = fields.map(|(n, d)| (n.clone(), Col::new(n, &d, capacity))).unzip();
        Fields { set_in: vec![0; names.len()], names, cols, template: Vec::new(), rows: 0 }
    }

    /// The column `key` fills (only rows spelled unlike the row before get here: see `template`).
    fn find(&self, key: &str) -> Option<usize> {
        self.names.iter().position(|k| k == key)
    }

    /// Fills one row from the object that comes next at `cursor`.
    fn fill(&mut self, cursor: &mut Cursor, text: &mut String) -> Result<(), Unhandled> {
        cursor.expect(b'{')?;
        let row = self.rows + 1;
        cursor.blanks();
        if !cursor.eat(b'}') {
            let mut k = 0;
            loop {
                cursor.blanks();
                let hinted = match self.template.get(k) {
                    Some(Some((pattern, target))) if cursor.eat_key(pattern) => Some(*target),
                    _ => None,
                };
                let found = match hinted {
                    Some(target) => target,
                    None => {
                        let key = cursor.key(text)?;
                        let found = self.find(key);
                        let learned = KeyPattern::new(key).map(|p| (p, found));
                        match self.template.get_mut(k) {
                            Some(slot) => *slot = learned,
                            None => self.template.push(learned),
                        }
                        found
                    }
                };
                k += 1;
                match found {
                    Some(c) => {
                        if self.set_in[c] == row {
                            return Err(Unhandled);
                        }
                        self.set_in[c] = row;
                        self.cols[c].push(cursor, text)?;
                    }
                    None => cursor.skip(text)?,
                }
                cursor.blanks();
                match cursor.peek() {
                    Some(b',') => cursor.expect(b',')?,
                    Some(b'}') => {
                        cursor.expect(b'}')?;
                        break;
                    }
                    _ => return Err(Unhandled),
                }
            }
        }
        for (c, col) in self.cols.iter_mut().enumerate() {
            if self.set_in[c] != row {
                col.push_null();
            }
        }
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
