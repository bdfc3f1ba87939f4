//! Rule W2: is an application-layer request a utility call (pass it through) or commercial
//! harvesting (intercept it, price it at spot, show it to the member)?
//!
//! A logistic regression over hashed features (host, registrable domain, subdomain labels,
//! path words, header names, payload field names, third-party-ness), seeded from public
//! tracker lists and then learning online from the member's own allow/deny decisions, on the
//! device, sending nothing anywhere.
//!
//! * **Seed.** Two features come from EasyPrivacy (Debian's `webext-ublock-origin-firefox`,
//!   see `data/SOURCES.md`): the host or a parent domain is on its host list, and the path
//!   holds words its generic rules use. One comes from Privacy Badger's yellowlist (domains sites
//!   need to work). Their starting weights are set by hand ([`SEED_WEIGHTS`]); the remaining
//!   weights are fitted on the training companies of the labelled set ([`crate::eval`]).
//! * **Learning.** A member's decision is one SGD step of the logistic loss. Features that
//!   name the service (host, registrable domain) take the full step; generic ones (words, field
//!   names) a tenth of it, because one member's verdict on one service says little about the
//!   word `api` everywhere ([`MEMBER_GENERIC_STEP_RATIO`]).
//! * **State.** The model is rebuilt at start from the seed, the labelled training set and the
//!   member's decisions (kept in the vault), so it is a pure function of data the member holds.

use crate::Error;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// Hashed feature space: 2^18 weights (1 MiB of f32).
pub const FEATURE_BITS: u32 = 18;
const FEATURE_COUNT: usize = 1 << FEATURE_BITS;
/// Features taken from one request at most (bounds the work per request).
pub const FEATURES_PER_REQUEST_MAX: usize = 256;
/// URL length read at most.
pub const URL_BYTES_MAX: usize = 8_192;

/// Hand-set starting weights of the list features and the bias (see module docs).
pub const SEED_WEIGHTS: &[(&str, f32)] = &[
    ("bias", -1.5),
    ("list:easyprivacy_host", 3.0),
    ("list:easyprivacy_host_third_party", 1.0),
    ("list:easyprivacy_words_1", 0.75),
    ("list:easyprivacy_words_2", 0.75),
    ("list:easyprivacy_host_path", 3.0),
    ("list:easylist_host", 2.0),
    ("list:yellowlist", -1.5),
];
/// Learning rate of the training passes (AdaGrad-scaled).
pub const TRAIN_RATE: f32 = 0.5;
pub const TRAIN_EPOCHS: usize = 8;
/// Learning rate of one member decision on service-naming features.
pub const MEMBER_RATE: f32 = 1.0;
pub const MEMBER_GENERIC_STEP_RATIO: f32 = 0.1;

static EASYPRIVACY_HOSTS: &str = include_str!("../data/easyprivacy_hosts.txt");
static EASYPRIVACY_HOST_PATHS: &str = include_str!("../data/easyprivacy_host_paths.txt");
static EASYLIST_HOSTS: &str = include_str!("../data/easylist_hosts.txt");
static EASYPRIVACY_WORDS: &str = include_str!("../data/easyprivacy_path_words.txt");
static YELLOWLIST: &str = include_str!("../data/yellowlist.txt");

struct Lists {
    hosts: HashSet<&'static str>,
    /// Host → path prefixes of EasyPrivacy's host-and-path rules.
    host_paths: HashMap<&'static str, Vec<&'static str>>,
    ad_hosts: HashSet<&'static str>,
    words: HashSet<&'static str>,
    yellow: HashSet<&'static str>,
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| Lists {
        hosts: EASYPRIVACY_HOSTS.lines().collect(),
        host_paths: {
            let mut map: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
            for line in EASYPRIVACY_HOST_PATHS.lines() {
                if let Some((host, path)) = line.split_once('\t') {
                    map.entry(host).or_default().push(path);
                }
            }
            map
        },
        ad_hosts: EASYLIST_HOSTS.lines().collect(),
        words: EASYPRIVACY_WORDS.lines().collect(),
        yellow: YELLOWLIST.lines().collect(),
    })
}

/// An application-layer request as the wallet sees it: where it goes, who caused it, what
/// names it carries. Values are never needed, only names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The site or app on whose behalf the request is made (a host or an app id).
    pub first_party: String,
    pub method: String,
    pub url: String,
    pub header_names: Vec<String>,
    /// Payload field names (JSON keys, form fields); query parameter names come from the URL.
    pub field_names: Vec<String>,
}

/// The verdict (W2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Utility pass-through: invisible to the member.
    Utility,
    /// Commercial intercept: priced at spot and shown to the member.
    Commercial,
}

/// A member's allow (utility) or deny (commercial) decision on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub request: Request,
    pub label: Label,
}

/// Host (lower case, no port), path and query parameter names of a URL.
pub fn split_url(url: &str) -> Result<(String, String, Vec<String>), Error> {
    if url.len() > URL_BYTES_MAX {
        return Err(Error::BadUrl);
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("wss://"))
        .ok_or(Error::BadUrl)?;
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(Error::BadUrl);
    }
    let tail = tail.split('#').next().unwrap_or("");
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let params = query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    Ok((host, path.to_string(), params))
}

/// Second-level labels under which registrations happen (a small stand-in for the Public
/// Suffix List: enough for the hosts this wallet meets; a wrong guess costs one feature).
const MULTI_LABEL_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "co.jp", "ne.jp", "com.br", "com.cn",
    "com.tr", "co.in", "co.kr", "co.nz", "com.mx", "com.ar", "co.za", "com.sg",
];

/// The registrable domain (eTLD+1) of a host.
pub fn registrable_domain(host: &str) -> &str {
    let dots: Vec<usize> = host.match_indices('.').map(|(at, _)| at).collect();
    if dots.len() < 2 {
        return host;
    }
    let last_two = &host[dots[dots.len() - 2] + 1..];
    if !MULTI_LABEL_SUFFIXES.contains(&last_two) {
        return last_two;
    }
    match dots.len() {
        2 => host,
        n => &host[dots[n - 3] + 1..],
    }
}

/// The host and each parent domain, longest first.
fn domain_and_parents(host: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(host), |h| h.split_once('.').map(|(_, rest)| rest))
        .filter(|h| h.contains('.'))
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3)
        .map(|w| w.to_ascii_lowercase())
}

/// Words of a field name: `advertiserTrackingEnabled`, `advertiser_tracking_enabled` and
/// `cd[advertiser]` all give `advertiser`, `tracking`, `enabled`.
fn field_words(field: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in field.chars() {
        let boundary = !c.is_ascii_alphabetic() || (c.is_ascii_uppercase() && previous_lower);
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c.is_ascii_alphabetic() {
            current.push(c.to_ascii_lowercase());
        }
        previous_lower = c.is_ascii_lowercase();
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.retain(|w| w.len() >= 2);
    words
}

/// FNV-1a, 64-bit: a stable hash for feature names (no dependency, same on every machine).
fn feature_index(name: &str) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> (64 - FEATURE_BITS)) as usize
}

/// A feature: its hashed index and whether it names the service (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Feature {
    index: usize,
    names_service: bool,
}

/// The feature names of a request (public for tests and for showing the member "why").
pub fn feature_names(request: &Request) -> Result<Vec<(String, bool)>, Error> {
    let (host, path, params) = split_url(&request.url)?;
    let site = registrable_domain(&host);
    let first_party = request.first_party.to_ascii_lowercase();
    let third_party = registrable_domain(&first_party) != site;
    let lists = lists();
    let mut names: Vec<(String, bool)> = vec![
        ("bias".into(), false),
        (format!("host:{host}"), true),
        (format!("site:{site}"), true),
        (
            format!("method:{}", request.method.to_ascii_uppercase()),
            false,
        ),
    ];
    if third_party {
        names.push(("third_party".into(), false));
    }
    let on_list = domain_and_parents(&host).any(|d| lists.hosts.contains(d));
    if on_list {
        names.push(("list:easyprivacy_host".into(), false));
        if third_party {
            names.push(("list:easyprivacy_host_third_party".into(), false));
        }
    }
    let path_listed = domain_and_parents(&host).any(|d| {
        lists
            .host_paths
            .get(d)
            .is_some_and(|prefixes| prefixes.iter().any(|p| path.starts_with(p)))
    });
    if path_listed {
        names.push(("list:easyprivacy_host_path".into(), false));
    }
    if domain_and_parents(&host).any(|d| lists.ad_hosts.contains(d)) {
        names.push(("list:easylist_host".into(), false));
    }
    if domain_and_parents(&host).any(|d| lists.yellow.contains(d)) {
        names.push(("list:yellowlist".into(), false));
    }
    let subdomain = host.strip_suffix(site).unwrap_or("").trim_end_matches('.');
    for label in words(subdomain) {
        names.push((format!("label:{label}"), false));
    }
    let mut listed_words = 0;
    for word in words(&path) {
        if lists.words.contains(word.as_str()) {
            listed_words += 1;
        }
        names.push((format!("path:{word}"), false));
    }
    if listed_words >= 1 {
        names.push(("list:easyprivacy_words_1".into(), false));
    }
    if listed_words >= 2 {
        names.push(("list:easyprivacy_words_2".into(), false));
    }
    for field in params.iter().chain(&request.field_names) {
        names.push((format!("field:{}", field.to_ascii_lowercase()), false));
        for word in field_words(field) {
            names.push((format!("fieldword:{word}"), false));
        }
    }
    for header in &request.header_names {
        names.push((format!("header:{}", header.to_ascii_lowercase()), false));
    }
    names.truncate(FEATURES_PER_REQUEST_MAX);
    Ok(names)
}

fn features(request: &Request) -> Result<Vec<Feature>, Error> {
    let mut features: Vec<Feature> = feature_names(request)?
        .iter()
        .map(|(name, names_service)| Feature {
            index: feature_index(name),
            names_service: *names_service,
        })
        .collect();
    features.sort_unstable_by_key(|f| f.index);
    features.dedup_by_key(|f| f.index);
    Ok(features)
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The classifier's weights and AdaGrad accumulators.
#[derive(Clone)]
pub struct Classifier {
    weights: Vec<f32>,
    squared_gradients: Vec<f32>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nonzero = self.weights.iter().filter(|w| **w != 0.0).count();
        write!(f, "Classifier({nonzero} nonzero weights)")
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::seeded()
    }
}

impl Classifier {
    /// The seed model: the list features at their hand-set weights, everything else zero.
    pub fn seeded() -> Classifier {
        let mut classifier = Classifier {
            weights: vec![0.0; FEATURE_COUNT],
            squared_gradients: vec![0.0; FEATURE_COUNT],
        };
        for (name, weight) in SEED_WEIGHTS {
            classifier.weights[feature_index(name)] = *weight;
        }
        classifier
    }

    /// Probability that the request is commercial harvesting.
    pub fn score(&self, request: &Request) -> Result<f32, Error> {
        let features = features(request)?;
        Ok(sigmoid(self.margin(&features)))
    }

    pub fn classify(&self, request: &Request) -> Result<Label, Error> {
        Ok(if self.score(request)? >= 0.5 {
            Label::Commercial
        } else {
            Label::Utility
        })
    }

    fn margin(&self, features: &[Feature]) -> f32 {
        features.iter().map(|f| self.weights[f.index]).sum()
    }

    fn target(label: Label) -> f32 {
        match label {
            Label::Commercial => 1.0,
            Label::Utility => 0.0,
        }
    }

    /// One AdaGrad step on a labelled example (training on the labelled set).
    pub fn train(&mut self, request: &Request, label: Label) -> Result<(), Error> {
        let features = features(request)?;
        let gradient = sigmoid(self.margin(&features)) - Self::target(label);
        for feature in &features {
            let accumulator = &mut self.squared_gradients[feature.index];
            *accumulator += gradient * gradient;
            let step = TRAIN_RATE / (1.0 + accumulator.sqrt());
            self.weights[feature.index] -= step * gradient;
        }
        Ok(())
    }

    /// Trains `epochs` passes over `examples`, in order (deterministic).
    pub fn fit(&mut self, examples: &[(Request, Label)], epochs: usize) -> Result<(), Error> {
        for _ in 0..epochs {
            for (request, label) in examples {
                self.train(request, *label)?;
            }
        }
        Ok(())
    }

    /// Learns from one member decision (see module docs for the step sizes).
    pub fn learn(&mut self, decision: &Decision) -> Result<(), Error> {
        let features = features(&decision.request)?;
        let gradient = sigmoid(self.margin(&features)) - Self::target(decision.label);
        for feature in &features {
            let ratio = if feature.names_service {
                1.0
            } else {
                MEMBER_GENERIC_STEP_RATIO
            };
            self.weights[feature.index] -= MEMBER_RATE * ratio * gradient;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(first_party: &str, url: &str) -> Request {
        Request {
            first_party: first_party.into(),
            method: "GET".into(),
            url: url.into(),
            header_names: vec![],
            field_names: vec![],
        }
    }

    #[test]
    fn urls_split_into_host_path_and_parameter_names() {
        let (host, path, params) =
            split_url("https://User@WWW.Example.com:8443/a/b.gif?x=1&utm_source=y#f").unwrap();
        assert_eq!(host, "www.example.com");
        assert_eq!(path, "/a/b.gif");
        assert_eq!(params, vec!["x", "utm_source"]);
        assert_eq!(split_url("ftp://x").unwrap_err().code(), "bad_url");
        assert_eq!(registrable_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(
            registrable_domain("stats.g.doubleclick.net"),
            "doubleclick.net"
        );
        assert_eq!(registrable_domain("localhost"), "localhost");
    }

    #[test]
    fn the_seed_model_follows_the_lists() {
        // rule W2: seeded from EasyPrivacy.
        let model = Classifier::seeded();
        let tracker = request(
            "news.example",
            "https://www.google-analytics.com/g/collect?v=2",
        );
        let font = request(
            "news.example",
            "https://fonts.example-cdn.org/css2?family=Inter",
        );
        assert_eq!(model.classify(&tracker).unwrap(), Label::Commercial);
        assert_eq!(model.classify(&font).unwrap(), Label::Utility);
    }

    #[test]
    fn member_decisions_fix_a_service_the_lists_miss() {
        // rule W2: learns from the member's decisions. Firebase's app-measurement.com is on
        // no web list; one or a few denials teach it.
        let mut model = Classifier::seeded();
        let app = request("com.example.game", "https://app-measurement.com/a");
        assert_eq!(model.classify(&app).unwrap(), Label::Utility);
        let mut corrections = 0;
        while model.classify(&app).unwrap() == Label::Utility {
            model
                .learn(&Decision {
                    request: app.clone(),
                    label: Label::Commercial,
                })
                .unwrap();
            corrections += 1;
            assert!(corrections < 10);
        }
        let other_tracker = request("news.example", "https://www.google-analytics.com/g/collect");
        assert_eq!(model.classify(&other_tracker).unwrap(), Label::Commercial);
    }
}
