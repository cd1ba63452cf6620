//! A sandbox's data kept in a directory, so that a restarted sandbox serves the same rows with
//! the same `write_date`s and continues from the changes made through [`crate::Control`].
//!
//! Two JSON Lines files per Odoo version, both written in a fixed order (models by name, rows
//! by id, keys sorted):
//! - `odoo-<version>-data.jsonl`: a header line naming the format and what the data was made
//!   from, then one line per row (`model`, `id`, `create_date`, `write_date` with
//!   microseconds, `values` as `read` prints them). Written once, on the first start;
//! - `odoo-<version>-changes.jsonl`: one line per committed [`crate::Transaction`], replayed
//!   in order on later starts.
//!
//! A data file made from another data set (generator size or seed, recorded folder, database
//! name or end of generated dates) is refused rather than silently served.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::SandboxConfig;
use crate::data::DatasetError;
use crate::store::{Database, Record};

const FORMAT: &str = "odoo-sandbox-data";
const FORMAT_VERSION: u32 = 1;
const STAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// The files of one version in a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFiles {
    /// The rows as first built.
    pub data: PathBuf,
    /// The committed changes since.
    pub changes: PathBuf,
}

impl DataFiles {
    /// The files a sandbox of `version` keeps in `dir`.
    pub fn in_dir(dir: &Path, version: u8) -> DataFiles {
        DataFiles {
            data: dir.join(format!("odoo-{version}-data.jsonl")),
            changes: dir.join(format!("odoo-{version}-changes.jsonl")),
        }
    }
}

/// The first line of a data file: what the rows were made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    format: String,
    format_version: u32,
    odoo_version: u8,
    database: String,
    dataset: crate::config::Dataset,
    generated_until: NaiveDateTime,
}

impl Header {
    fn of(config: &SandboxConfig, database: &str) -> Header {
        Header {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            odoo_version: config.version,
            database: database.to_owned(),
            dataset: config.dataset.clone(),
            generated_until: config.generated_until,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Row<'a> {
    model: std::borrow::Cow<'a, str>,
    id: i64,
    create_date: String,
    write_date: String,
    values: std::borrow::Cow<'a, Map<String, Value>>,
}

/// Loads the rows of `database` from its data file when there is one (after checking that it
/// was made from the same configuration); otherwise builds them with `build` and writes the
/// file. The file is written beside and then renamed, so an interrupted first start leaves no
/// partial file.
pub fn load_or_save(
    files: &DataFiles,
    config: &SandboxConfig,
    database: &mut Database,
    build: impl FnOnce(&mut Database) -> Result<(), DatasetError>,
) -> Result<(), DatasetError> {
    let header = Header::of(config, &database.name);
    if files.data.exists() {
        return load(&files.data, &header, database);
    }
    build(database)?;
    save(&files.data, &header, database)
}

fn save(path: &Path, header: &Header, database: &Database) -> Result<(), DatasetError> {
    let partial = path.with_extension("jsonl.partial");
    let failed = |source| DatasetError::Write {
        path: partial.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let file = std::fs::File::create(&partial).map_err(failed)?;
    let mut out = BufWriter::new(file);
    write_line(&mut out, header).map_err(failed)?;
    for (model, table) in &database.tables {
        for record in table.rows() {
            write_line(&mut out, &row_of(model, record)).map_err(failed)?;
        }
    }
    out.flush().map_err(failed)?;
    drop(out);
    std::fs::rename(&partial, path).map_err(|source| DatasetError::Write {
        path: path.to_owned(),
        source,
    })
}

fn row_of<'a>(model: &'a str, record: &'a Record) -> Row<'a> {
    Row {
        model: model.into(),
        id: record.id,
        create_date: record.create_date.format(STAMP_FORMAT).to_string(),
        write_date: record.write_date.format(STAMP_FORMAT).to_string(),
        values: std::borrow::Cow::Borrowed(&record.values),
    }
}

fn write_line(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

fn load(path: &Path, expected: &Header, database: &mut Database) -> Result<(), DatasetError> {
    database.tables.clear();
    let mut checked = false;
    each_line(path, |line, text| {
        if !checked {
            checked = true;
            return check_header(path, text, expected);
        }
        let row: Row = serde_json::from_str(text).map_err(|e| bad_line(path, line, e))?;
        let model = row.model.clone();
        let record = record_of(row).ok_or_else(|| format_error(path, line, "bad date".into()))?;
        match database.tables.get_mut(model.as_ref()) {
            Some(table) => table.put(record),
            None => database
                .tables
                .entry(model.into_owned())
                .or_default()
                .put(record),
        }
        Ok(())
    })?;
    match checked {
        true => Ok(()),
        false => Err(format_error(path, 0, "the data file is empty".into())),
    }
}

fn check_header(path: &Path, text: &str, expected: &Header) -> Result<(), DatasetError> {
    let header: Option<Header> = serde_json::from_str(text).ok();
    if header.as_ref() == Some(expected) {
        return Ok(());
    }
    let message = format!(
        "this data file was made for another configuration; remove it or choose another data \
         directory (expected the header {})",
        serde_json::to_string(expected).unwrap_or_default()
    );
    Err(format_error(path, 1, message))
}

fn record_of(row: Row) -> Option<Record> {
    let parse = |text: &str| NaiveDateTime::parse_from_str(text, STAMP_FORMAT).ok();
    Some(Record {
        id: row.id,
        write_date: parse(&row.write_date)?,
        create_date: parse(&row.create_date)?,
        values: row.values.into_owned(),
    })
}

fn format_error(path: &Path, line: usize, message: String) -> DatasetError {
    DatasetError::Format {
        path: path.to_owned(),
        line,
        message,
    }
}

fn bad_line(path: &Path, line: usize, error: serde_json::Error) -> DatasetError {
    format_error(path, line, error.to_string())
}

/// Calls `each` with every non-blank line of a file and its 1-based number; a missing file has
/// no line.
pub fn each_line(
    path: &Path,
    mut each: impl FnMut(usize, &str) -> Result<(), DatasetError>,
) -> Result<(), DatasetError> {
    let io_error = |source| DatasetError::Io {
        path: path.to_owned(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(io_error(source)),
    };
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_error)?;
        if !line.trim().is_empty() {
            each(index + 1, &line)?;
        }
    }
    Ok(())
}

/// Reads every line of a JSON Lines file as a `T`.
pub fn read_lines<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, DatasetError> {
    let mut parsed = Vec::new();
    each_line(path, |line, text| {
        parsed.push(serde_json::from_str(text).map_err(|e| bad_line(path, line, e))?);
        Ok(())
    })?;
    Ok(parsed)
}

/// Appends one line to a JSON Lines file and flushes it to the disk.
pub fn append_line(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    file.write_all(&line)?;
    file.sync_data()
}
