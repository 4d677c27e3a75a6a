//! Memory budgets of tasks: the `memory_limit` setting's sizes, the built-in default, and the
//! resident memory of a process as Linux reports it; the binaries' C allocator.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The memory an attempt may use, and where DuckDB spills what does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryBudget {
    /// The budget in bytes: DuckDB's `memory_limit`, and the resident size at which a task child
    /// process is killed.
    pub bytes: u64,
    /// A folder of this attempt alone for DuckDB's `temp_directory` (created on demand, removed
    /// after the attempt).
    pub spill_dir: PathBuf,
}

/// A `memory_limit` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Not a number followed by a unit.
    #[error(
        "`{0}` is not a size: write a number and a unit, e.g. \"512MB\" or \"4GiB\" (units: KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
    )]
    Malformed(String),
    /// A unit Polder does not know.
    #[error("`{0}` has an unknown unit; use KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)")]
    Unit(String),
    /// Zero, or too small for any task to run in.
    #[error("`{0}` is too small: a task needs at least 64 MB")]
    TooSmall(String),
}

/// The smallest budget accepted. Below it the fixed costs of a task (Polars' and DuckDB's
/// buffers and thread pools, which a task process sets up on its first task) would decide
/// whether the task fits, not its data.
pub const MIN_BUDGET: u64 = 64_000_000;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Parses a memory budget such as `300MB`, `4 GiB` or `1.5GB` into bytes ([`parse_bytes`], at
/// least [`MIN_BUDGET`]).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let bytes = parse_bytes(text)?;
    if bytes < MIN_BUDGET {
        return Err(SizeError::TooSmall(text.to_string()));
    }
    Ok(bytes)
}

/// Parses any size such as `1KB`, `300MB` or `4 GiB` into bytes. KB/MB/GB/TB are powers of
/// 1000 and KiB/MiB/GiB/TiB powers of 1024, as in DuckDB; a bare `B` counts bytes.
pub fn parse_bytes(text: &str) -> Result<u64, SizeError> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let value: f64 = num.parse().map_err(|_| SizeError::Malformed(text.to_string()))?;
    if unit.is_empty() {
        // A bare number is most likely meant as bytes by no one; make the unit explicit.
        return Err(SizeError::Malformed(text.to_string()));
    }
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => KIB,
        "mib" => MIB,
        "gib" => GIB,
        "tib" => 1024 * GIB,
        _ => return Err(SizeError::Unit(text.to_string())),
    };
    let bytes = value * factor as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(SizeError::Malformed(text.to_string()));
    }
    Ok(bytes as u64)
}

/// A size for people: exact binary units when the value is a whole number of them (as a
/// `memory_limit = "4GiB"` was likely written), else decimal units with one decimal.
pub fn format_bytes(bytes: u64) -> String {
    for (unit, size) in [("GiB", GIB), ("MiB", MIB)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    let (unit, size) = match bytes {
        b if b >= 1_000_000_000 => ("GB", 1e9),
        b if b >= 1_000_000 => ("MB", 1e6),
        _ => ("KB", 1e3),
    };
    let v = bytes as f64 / size;
    if (v - v.round()).abs() < 0.05 {
        format!("{} {unit}", v.round() as u64)
    } else {
        format!("{v:.1} {unit}")
    }
}

/// `used` for a message that says it is over `limit`: in the limit's kind of unit (binary when
/// the limit prints in GiB/MiB, else decimal), with as many decimals as it takes to read larger
/// than the limit ("4.02 GB" over "4 GB", never "4 GB" over "4 GB", nor "321 MiB" over "300 MB").
pub fn format_over(used: u64, limit: u64) -> String {
    if used <= limit {
        return format_bytes(used);
    }
    let (big, small) =
        if format_bytes(limit).ends_with("iB") { (("GiB", GIB as f64), ("MiB", MIB as f64)) } else { (("GB", 1e9), ("MB", 1e6)) };
    let (unit, size) = if used as f64 >= big.1 { big } else { small };
    let (v, l) = (used as f64 / size, limit as f64 / size);
    (1..=6)
        .map(|d| (format!("{v:.d$} {unit}"), format!("{l:.d$} {unit}")))
        .find(|(u, l)| u != l)
        .map_or_else(|| format!("{v:.6} {unit}"), |(u, _)| u)
}

/// The budget of a task without `memory_limit`: half the machine's physical memory, at least
/// 1 GiB. Half leaves room for the OS, the page cache and the other tasks of a run; a task
/// that needs more says so in its settings.
pub fn default_budget() -> u64 {
    let total = physical_memory().unwrap_or(8 * GIB);
    (total / 2).max(GIB)
}

/// Total physical memory (`MemTotal` of `/proc/meminfo`), if readable.
pub fn physical_memory() -> Option<u64> {
    kib_field(&std::fs::read_to_string("/proc/meminfo").ok()?, "MemTotal:")
}

/// Resident memory of a process now and at its peak (`VmRSS`, `VmHWM` of `/proc/<pid>/status`),
/// in bytes; None once the process is gone.
pub fn resident(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status")).ok()?;
    let rss = kib_field(&status, "VmRSS:")?;
    let peak = kib_field(&status, "VmHWM:").unwrap_or(rss);
    Some((rss, peak.max(rss)))
}

/// `n` with its thousands grouped: `23,528`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A `Name:   1234 kB` line of a /proc file, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * KIB)
}

/// jemalloc's options for the binaries that link it as their C `malloc` (their `malloc_conf`):
/// memory freed (by DuckDB) is kept for reuse one second, not jemalloc's default ten, which held
/// ~20 MB more at the peak of a stored 20M-row medallion run at the same speed. `MALLOC_CONF` in
/// the environment still applies after it.
pub const JEMALLOC_CONF: &[u8; 37] = b"dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// The file the process's C `malloc` comes from, as the dynamic loader names it: a binary that
/// links jemalloc in place of glibc's allocator names itself, not `libc.so`.
pub fn malloc_origin() -> Option<String> {
    // SAFETY: `Dl_info` is plain data; dladdr only reads the address and fills `info` on success.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    if unsafe { libc::dladdr(libc::malloc as *const libc::c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: on success `dli_fname` is a NUL-terminated path owned by the loader.
    Some(unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_their_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(23_528), "23,528");
        assert_eq!(group_digits(20_000_000), "20,000,000");
    }

    #[test]
    fn sizes_parse_in_decimal_and_binary_units() {
        assert_eq!(parse_size("300MB").unwrap(), 300_000_000);
        assert_eq!(parse_size("4GB").unwrap(), 4_000_000_000);
        assert_eq!(parse_size("4 GiB").unwrap(), 4 * GIB);
        assert_eq!(parse_size("1.5gb").unwrap(), 1_500_000_000);
        assert_eq!(parse_size("512MiB").unwrap(), 512 * MIB);
        assert_eq!(parse_size("200000KB").unwrap(), 200_000_000);
        assert_eq!(parse_size("65536KiB").unwrap(), 64 * MIB);
        assert_eq!(parse_size(" 2TB ").unwrap(), 2_000_000_000_000);
    }

    #[test]
    fn bad_sizes_say_what_is_wrong() {
        assert_eq!(parse_size("4"), Err(SizeError::Malformed("4".into())));
        assert_eq!(parse_size("GB"), Err(SizeError::Malformed("GB".into())));
        assert_eq!(parse_size("lots"), Err(SizeError::Malformed("lots".into())));
        assert_eq!(parse_size("4 gigs"), Err(SizeError::Unit("4 gigs".into())));
        assert_eq!(parse_size("1KB"), Err(SizeError::TooSmall("1KB".into())));
        assert_eq!(parse_size("0GB"), Err(SizeError::TooSmall("0GB".into())));
        assert!(parse_size("1.2.3GB").is_err());
        assert!(parse_size("-1GB").is_err());
    }

    #[test]
    fn sizes_print_for_people() {
        assert_eq!(format_bytes(300_000_000), "300 MB");
        assert_eq!(format_bytes(4 * GIB), "4 GiB");
        assert_eq!(format_bytes(4_100_000_000), "4.1 GB");
        assert_eq!(format_bytes(512 * MIB), "512 MiB");
        assert_eq!(format_bytes(1_234_567), "1.2 MB");
        assert_eq!(format_over(4_018_000_000, 4_000_000_000), "4.02 GB");
        assert_eq!(format_over(348_200_000, 300_000_000), "348.2 MB");
        assert_eq!(format_over(4_000_400_000, 4_000_000_000), "4.0004 GB");
        // A reading that is a whole number of MiB still prints in the limit's units.
        assert_eq!(format_over(321 * MIB, 300_000_000), "336.6 MB");
        assert_eq!(format_over(4 * GIB + 50 * MIB, 4 * GIB), "4.05 GiB");
    }

    #[test]
    fn the_default_budget_is_half_the_memory_but_at_least_a_gibibyte() {
        let total = physical_memory().expect("Linux has /proc/meminfo");
        assert_eq!(default_budget(), (total / 2).max(GIB));
        let (rss, peak) = resident(std::process::id()).unwrap();
        assert!(rss > 0 && peak >= rss);
    }

    /// This test binary links no jemalloc: `malloc` is glibc's, and `malloc_origin` says so (the
    /// binaries' own tests see their executable instead).
    #[test]
    fn malloc_origin_names_glibc_where_no_jemalloc_is_linked() {
        let origin = malloc_origin().expect("malloc has an origin");
        assert!(origin.contains("libc.so"), "{origin}");
    }
}
