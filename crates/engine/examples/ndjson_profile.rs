//! Where an NDJSON source's time goes, stage by stage, on a folder of medallion logs (the bronze
//! task of `bench/medallion_core`): reading the bytes, simd-json's tape alone, the fast reader's
//! frames (parse + build + flatten), and the whole task (+ the Parquet artifact). Each stage
//! includes the ones before it; all use every core.
//!
//! Usage: `cargo run --release -p polder-engine --example ndjson_profile -- DIR`

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use polars::prelude::{ParquetCompression, ParquetWriter, StatisticsOptions};
use polder_engine::spec::{PathColumn, PathColumnType, SourceFormat, SourceTask};
use polder_engine::tasks::ndjson::{self, Options};
use polder_engine::tasks::CancelFlag;

// mimalloc, as the `polder` binary (glibc's malloc: the stages take 7-25% longer, sys time doubles).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: ndjson_profile DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read DIR")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    let threads = Options::default().threads;
    println!("{} files, {:.1} MB, {threads} threads", files.len(), bytes as f64 / 1e6);
    let report = |stage: &str, started: Instant| {
        let s = started.elapsed().as_secs_f64();
        println!("| {stage} | {s:.2} | {:.0} |", bytes as f64 / 1e6 / s);
    };
    println!("| stage | s | MB/s |\n|---|---:|---:|");

    let started = Instant::now();
    each_file(&files, threads, |_, data| std::hint::black_box(data.len()));
    report("read the bytes (page cache)", started);

    let started = Instant::now();
    each_file(&files, threads, |_, data| {
        let mut buffers = simd_json::Buffers::default();
        let mut line_buf = Vec::new();
        let mut nodes = 0usize;
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            line_buf.clear();
            line_buf.extend_from_slice(line);
            let tape = simd_json::to_tape_with_buffers(&mut line_buf, &mut buffers).expect("valid JSON");
            nodes += tape.0.len();
        }
        nodes
    });
    report("+ simd-json tape of every line", started);

    let src = SourceTask {
        flatten: true,
        path_column: Some(PathColumn {
            name: "date".into(),
            pattern: r"(\d{8})\.json$".into(),
            dtype: PathColumnType::Date,
            format: "%Y%m%d".into(),
        }),
        ..SourceTask::new(SourceFormat::Ndjson, "*.json")
    };
    let started = Instant::now();
    let mut rows = 0;
    ndjson::read(&src, &files, None, &Options::default(), &CancelFlag::default(), &mut |df| {
        rows += df.height();
        Ok(())
    })
    .expect("read");
    report(&format!("+ columns built, path column, flatten ({rows} rows)"), started);

    let out = std::env::temp_dir().join(format!("ndjson_profile_{}.parquet", std::process::id()));
    let started = Instant::now();
    ndjson::write_parquet(&src, &files, None, &out, &Options::default(), &CancelFlag::default()).expect("write");
    report("+ Parquet artifact (LZ4), the whole source task", started);
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!("artifact: {:.1} MB", size as f64 / 1e6);
    // What the Parquet writer's time is made of: the same frames written other ways.
    let variants: [(&str, ParquetCompression, bool); 3] = [
        ("LZ4, no statistics", ParquetCompression::Lz4Raw, false),
        ("uncompressed, statistics", ParquetCompression::Uncompressed, true),
        ("uncompressed, no statistics", ParquetCompression::Uncompressed, false),
    ];
    for (what, compression, statistics) in variants {
        let started = Instant::now();
        let mut writer = None;
        ndjson::read(&src, &files, None, &Options::default(), &CancelFlag::default(), &mut |df| {
            let w = writer.get_or_insert_with(|| {
                let stats = if statistics { StatisticsOptions::default() } else { StatisticsOptions::empty() };
                ParquetWriter::new(std::fs::File::create(&out).unwrap())
                    .with_compression(compression)
                    .with_statistics(stats)
                    .batched(df.schema())
                    .unwrap()
            });
            w.write_batch(&df).unwrap();
            Ok(())
        })
        .expect("read");
        writer.unwrap().finish().unwrap();
        report(&format!("+ Parquet, {what}"), started);
    }
    let _ = std::fs::remove_file(out);
}

/// Runs `work` over every file's bytes on `threads` threads (files taken in turn).
fn each_file(files: &[PathBuf], threads: usize, work: impl Fn(usize, &[u8]) -> usize + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let mut data = Vec::new();
                std::fs::File::open(f).and_then(|mut h| h.read_to_end(&mut data)).expect("read");
                std::hint::black_box(work(i, &data));
            });
        }
    });
}
