//! `polder init NAME`: a new pipeline folder that runs as created.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

/// Arguments of `polder init`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline's name; also the folder created.
    name: String,
    /// Where to create the folder.
    #[arg(long, default_value = ".")]
    parent: PathBuf,
}

const SPEC: &str = r#"# Created by `polder init`. The format is described in Polder's README ("Pipeline format").
[pipeline]
name = "{{NAME}}"
description = "Orders per customer"

[params]
min_amount = 0     # an int (typed by its default); override with: polder run {{NAME}} --param min_amount=10

[[task]]
id = "orders"
kind = "source"
format = "csv"
path = "data/orders.csv"

[[task]]
id = "customer_totals"
kind = "sql"
file = "customer_totals.sql"   # reads `orders`: dependencies come from the SQL

[[task]]
id = "customer_checks"
kind = "validate"
input = "customer_totals"
checks = [
  { column = "customer", not_null = true, unique = true },
  { column = "total", min = 0 },
]
"#;

const SQL: &str = "-- Upstream tasks are tables named by their id.
SELECT customer, COUNT(*) AS orders, SUM(amount) AS total
FROM orders
WHERE amount >= {{ min_amount }}
GROUP BY customer
ORDER BY total DESC
";

const DATA: &str = "order_id,customer,amount\n1,alice,30.5\n2,bob,12.0\n3,alice,7.25\n4,carol,99.9\n5,bob,3.0\n";

/// Writes the folder, refusing to overwrite an existing one.
pub fn run(args: Args) -> Result<ExitCode> {
    if !polder_engine::spec::valid_name(&args.name) {
        bail!(
            "pipeline name `{}` may only use letters, digits, `_` and `-` (at most {} characters)",
            args.name,
            polder_engine::spec::MAX_NAME_LEN
        );
    }
    let dir = args.parent.join(&args.name);
    if dir.exists() {
        bail!("{} already exists; choose another name or remove it", dir.display());
    }
    std::fs::create_dir_all(dir.join("data")).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |rel: &str, text: &str| -> Result<()> {
        polder_engine::fsutil::write_atomic(&dir.join(rel), text.as_bytes())?;
        Ok(())
    };
    write("pipeline.toml", &SPEC.replace("{{NAME}}", &args.name))?;
    write("customer_totals.sql", SQL)?;
    write("data/orders.csv", DATA)?;
    super::load_pipeline(&dir).context("the generated pipeline does not load (a bug)")?;
    println!("created pipeline '{}' in {}", args.name, dir.display());
    println!("next: polder run {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
