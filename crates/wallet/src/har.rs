//! Importer for HAR 1.2 (HTTP Archive) files, the format every browser's developer tools and
//! most intercepting proxies export.
//!
//! Why HAR rather than Chromium's `History` SQLite: HAR is JSON, so it costs no new dependency
//! (`serde_json` is already built), where `rusqlite` with `bundled` compiles SQLite's C
//! amalgamation (about a minute on the 2-core CI machine) for one importer. And a HAR file holds
//! what the classifier needs and a history database does not: each request's host, path, header
//! names and payload field names, and the page that caused it.
//!
//! Each page becomes a browsing record (its first document URL and title); each request becomes
//! a classifier [`Request`] with the page's host as the first party. Header and field *values*
//! are read only to find names and are never kept.

use crate::classifier::Request;
use crate::vault::Record;
use crate::Error;
use assay_core::TradingDay;
use serde_json::Value;

/// Entries read from one file at most.
pub const HAR_ENTRIES_MAX: usize = 200_000;
/// Field names kept per request at most.
pub const FIELDS_PER_REQUEST_MAX: usize = 64;

/// What one HAR file yields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    pub records: Vec<Record>,
    pub requests: Vec<Request>,
}

fn bad(reason: &str) -> Error {
    Error::BadHar {
        reason: reason.to_string(),
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC trading day of an ISO 8601 timestamp (`2024-05-01T12:00:00.000Z`; offsets are
/// ignored, which can shift a record by one day near midnight).
pub fn trading_day(timestamp: &str) -> Result<TradingDay, Error> {
    let date = timestamp.get(..10).ok_or_else(|| bad("timestamp"))?;
    let mut parts = date.split('-').map(str::parse::<i64>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("timestamp"));
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad("timestamp"));
    }
    i32::try_from(days_from_civil(year, month, day))
        .map(TradingDay)
        .map_err(|_| bad("timestamp"))
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn payload_fields(post: Option<&Value>) -> Vec<String> {
    let Some(post) = post else {
        return Vec::new();
    };
    let mut fields = names(post.get("params"));
    if fields.is_empty() {
        if let Some(text) = post.get("text").and_then(Value::as_str) {
            if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
                fields = object.keys().cloned().collect();
            }
        }
    }
    fields.truncate(FIELDS_PER_REQUEST_MAX);
    fields
}

/// Parses a HAR file's text.
pub fn import(text: &str) -> Result<Imported, Error> {
    let root: Value = serde_json::from_str(text).map_err(|_| bad("not JSON"))?;
    let log = root.get("log").ok_or_else(|| bad("no log object"))?;
    let entries = log
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no entries array"))?;
    if entries.len() > HAR_ENTRIES_MAX {
        return Err(bad("too many entries"));
    }
    let pages = log
        .get("pages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut imported = Imported::default();
    // Page id → (first party host, whether its browsing record is written).
    let mut page_hosts: Vec<(String, String)> = Vec::new();
    for entry in entries {
        let request = entry
            .get("request")
            .ok_or_else(|| bad("entry without request"))?;
        let url = request
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("request without url"))?;
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET");
        let Ok((host, _, _)) = crate::classifier::split_url(url) else {
            continue; // data:, blob:, chrome-extension: and the like carry nothing to classify.
        };
        let page = entry.get("pageref").and_then(Value::as_str).unwrap_or("");
        let first_party = match page_hosts.iter().find(|(id, _)| id == page) {
            Some((_, first)) => first.clone(),
            None => {
                // The page's first request is its document: the page's host, and a visit.
                page_hosts.push((page.to_string(), host.clone()));
                if let Some(page_info) = pages
                    .iter()
                    .find(|p| p.get("id").and_then(Value::as_str) == Some(page))
                {
                    let started = page_info
                        .get("startedDateTime")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("page without startedDateTime"))?;
                    imported.records.push(Record::Browsing {
                        day: trading_day(started)?,
                        url: url.to_string(),
                        title: page_info
                            .get("title")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    });
                }
                host.clone()
            }
        };
        imported.requests.push(Request {
            first_party,
            method: method.to_string(),
            url: url.to_string(),
            header_names: names(request.get("headers")),
            field_names: payload_fields(request.get("postData")),
        });
    }
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pages_requests_and_field_names() {
        let text = include_str!("../test_data/sample.har");
        let imported = import(text).unwrap();
        assert_eq!(imported.records.len(), 1);
        assert_eq!(
            imported.records[0],
            Record::Browsing {
                day: trading_day("2024-05-01T09:30:00.000Z").unwrap(),
                url: "https://news.example.com/".into(),
                title: "Example News".into(),
            }
        );
        assert_eq!(imported.requests.len(), 3);
        let beacon = &imported.requests[2];
        assert_eq!(beacon.first_party, "news.example.com");
        assert_eq!(beacon.field_names, vec!["cid", "en", "tid"]);
        assert!(beacon.header_names.contains(&"User-Agent".to_string()));
        assert_eq!(trading_day("1970-01-02T00:00:00Z").unwrap(), TradingDay(1));
        assert_eq!(import("{}").unwrap_err().code(), "bad_har");
    }
}
