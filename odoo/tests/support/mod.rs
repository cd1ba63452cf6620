#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Loads the recorded Odoo exchanges from `../shared/odoo/transcripts` beside the repository.

#![allow(dead_code)]

pub mod replay;

use std::path::{Path, PathBuf};

use odoo_client::answer::HttpAnswer;

/// `shared/odoo` beside the repository root.
pub fn shared_odoo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/odoo")
}

/// One recorded case.
#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub protocol: String,
    pub path: String,
    pub answer: HttpAnswer,
    pub request_body: Option<Vec<u8>>,
}

/// Every case of one server version folder (`odoo-18.0`, `odoo-19.0`), in name order.
pub fn cases(version: &str) -> Vec<Case> {
    let dir = shared_odoo().join("transcripts").join(version);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    names.sort();
    names.iter().map(|path| load(path)).collect()
}

/// The case whose folder name starts with `prefix` (e.g. `23-`).
pub fn case(version: &str, prefix: &str) -> Case {
    cases(version)
        .into_iter()
        .find(|c| c.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no case {prefix} in {version}"))
}

fn load(dir: &Path) -> Case {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
    let response = &meta["response"];
    let body = response["body_file"]
        .as_str()
        .map(|file| std::fs::read(dir.join(file)).unwrap())
        .unwrap_or_default();

    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        protocol: meta["protocol"].as_str().unwrap().to_owned(),
        path: meta["request"]["path"].as_str().unwrap().to_owned(),
        answer: HttpAnswer {
            status: response["status"].as_u64().unwrap() as u16,
            content_type: response["content_type"].as_str().map(str::to_owned),
            retry_after: header(response, "Retry-After"),
            location: header(response, "Location"),
            body,
        },
        request_body: request_body(dir),
    }
}

fn header(response: &serde_json::Value, name: &str) -> Option<String> {
    response["headers"].as_array()?.iter().find_map(|pair| {
        let pair = pair.as_array()?;
        let key = pair.first()?.as_str()?;
        key.eq_ignore_ascii_case(name)
            .then(|| pair.get(1)?.as_str().map(str::to_owned))?
    })
}

fn request_body(dir: &Path) -> Option<Vec<u8>> {
    ["request.body.json", "request.body.xml"]
        .iter()
        .find_map(|file| std::fs::read(dir.join(file)).ok())
}
