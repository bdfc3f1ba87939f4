//! Rule W2: is an application-layer request a utility call (pass it through) or commercial
//! harvesting (intercept it, price it at spot, show it to the member)?
//!
//! A logistic regression over hashed features (host, registrable domain by the Public Suffix
//! List, subdomain labels, path words and their camelCase parts, five-letter prefixes of longer
//! words, the file extension alone and with third-party-ness, query parameter and payload
//! field names, header names, third-party-ness), seeded from public tracker lists and then
//! learning online from the member's own allow/deny decisions, on the device, sending nothing
//! anywhere.
//!
//! * **Seed.** Features from EasyPrivacy (Debian's `webext-ublock-origin-firefox`, see
//!   `data/SOURCES.md`): the host or a parent domain is on its host list; a host-and-path rule
//!   matches; one of its ~3,300 generic (host-less) rules matches the URL, adblock-style
//!   (`/matomo.js` on a site's own host); the path or host holds words its generic rules use.
//!   EasyList's hosts (advertising) and Privacy Badger's yellowlist (domains sites need to work)
//!   add one each, and Privacy Badger's pre-trained seed (what its heuristic learned on popular
//!   sites: a tracker seen on 3+ sites, or seen on fewer) two more. A hand-written lexicon of
//!   purpose stems ([`PURPOSE_STEMS`]: measuring, advertising, faults, consent, delivering)
//!   adds what words mean to people, for vendors neither the lists nor the training know. Their starting weights are
//!   set by hand ([`SEED_WEIGHTS`]); the remaining weights are fitted on the training companies
//!   ([`crate::eval`]), and every feature choice and the decision threshold
//!   ([`COMMERCIAL_THRESHOLD`]) were made by grouped cross-validation on those companies only.
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
    ("list:easyprivacy_generic", 2.0),
    ("list:easylist_host", 2.0),
    ("list:yellowlist", -1.5),
    ("list:badger_tracker", 1.5),
    ("list:badger_seen", 0.5),
];
/// Scores at or above this are commercial. Chosen by grouped cross-validation on the training
/// companies only (`ASSAY_PRINT_CV=1`, see `eval.rs`): the smaller of precision and recall is
/// highest, 0.904, from 0.30 to 0.33; the upper end keeps the most precision (0.9123 / 0.9043).
pub const COMMERCIAL_THRESHOLD: f32 = 0.33;
/// Stems that name a request's purpose in the rubric's terms (`requests_labelled.tsv`), written
/// by hand for Assay: found anywhere in the host, path, parameter or field names, each group
/// adds one feature whose weight is learned. They carry what a word means to people, which
/// the training data cannot teach for a vendor it has not seen (`behavioral_action`,
/// `notices`, `consent`).
#[rustfmt::skip]
pub const PURPOSE_STEMS: &[(&str, &[&str])] = &[
    ("measure", &[
        "analytic", "telemetr", "track", "pixel", "beacon", "impression", "metric", "behavio",
        "replay", "record", "attribut", "conversion", "audience", "insight", "stats",
        "statistic", "collect", "ingest", "measure", "survey", "intercept", "engage",
        "retarget", "affiliate", "campaign", "visitor", "pageview", "heatmap",
    ]),
    ("advertise", &["advert", "adserv", "adsdk", "bidder", "prebid", "rtb", "sponsor", "promot"]),
    ("fault", &[
        "error", "crash", "exception", "bug", "notice", "notify", "fault", "stacktrace",
        "sourcemap", "symbolicat", "diagnos", "incident",
    ]),
    ("consent", &["consent", "cmp", "gdpr", "tcf", "ccpa", "optout", "opt-out", "privacy"]),
    ("deliver", &[
        "checkout", "payment", "login", "signin", "oauth", "token", "captcha", "font", "tile",
        "geocod", "search", "cart", "upload", "media", "image", "video", "stream",
    ]),
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
static EASYPRIVACY_GENERIC: &str = include_str!("../data/easyprivacy_generic.txt");
static PUBLIC_SUFFIX_LIST: &str = include_str!("../data/public_suffix_list.dat");
static BADGER_SEED: &str = include_str!("../data/badger_seed.txt");

/// Which requests an EasyPrivacy generic rule applies to (its `third-party` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Any,
    Third,
    First,
}

/// A host-less EasyPrivacy rule: literal pieces between its `*` wildcards.
struct GenericRule {
    pieces: Vec<&'static str>,
    party: Party,
}

struct Lists {
    hosts: HashSet<&'static str>,
    /// Host → path prefixes of EasyPrivacy's host-and-path rules.
    host_paths: HashMap<&'static str, Vec<&'static str>>,
    ad_hosts: HashSet<&'static str>,
    words: HashSet<&'static str>,
    yellow: HashSet<&'static str>,
    /// Privacy Badger's pre-trained seed: domain → (blocked as a tracker, sites seen tracking on).
    badger: HashMap<&'static str, (bool, u32)>,
    generic: Vec<GenericRule>,
    /// Public Suffix List: plain rules, wildcard rules (`*.x` stored as `x`) and exceptions
    /// (`!x` stored as `x`).
    suffixes: HashSet<&'static str>,
    wildcard_suffixes: HashSet<&'static str>,
    suffix_exceptions: HashSet<&'static str>,
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
        badger: BADGER_SEED
            .lines()
            .filter_map(|line| {
                let mut columns = line.split('\t');
                let domain = columns.next()?;
                let blocked = matches!(columns.next()?, "block" | "cookieblock");
                let sites = columns.next()?.parse().ok()?;
                Some((domain, (blocked, sites)))
            })
            .collect(),
        generic: EASYPRIVACY_GENERIC
            .lines()
            .filter_map(|line| {
                let (pattern, party) = line.split_once('\t')?;
                let party = match party {
                    "third" => Party::Third,
                    "first" => Party::First,
                    _ => Party::Any,
                };
                let pieces: Vec<&'static str> =
                    pattern.split('*').filter(|p| !p.is_empty()).collect();
                (!pieces.is_empty()).then_some(GenericRule { pieces, party })
            })
            .collect(),
        suffixes: PUBLIC_SUFFIX_LIST
            .lines()
            .filter(|l| !l.starts_with("//") && !l.starts_with('*') && !l.starts_with('!'))
            .collect(),
        wildcard_suffixes: PUBLIC_SUFFIX_LIST
            .lines()
            .filter_map(|l| l.strip_prefix("*."))
            .collect(),
        suffix_exceptions: PUBLIC_SUFFIX_LIST
            .lines()
            .filter_map(|l| l.strip_prefix('!'))
            .collect(),
    })
}

/// Does `piece` (literal text where `^` stands for a separator or the end) occur in `text` at
/// `at`? Returns the end of the match.
fn piece_matches_at(text: &[u8], at: usize, piece: &[u8]) -> Option<usize> {
    let mut position = at;
    for &p in piece {
        if p == b'^' {
            match text.get(position) {
                None => continue,
                Some(c) if c.is_ascii_alphanumeric() || b"_-.%".contains(c) => return None,
                Some(_) => position += 1,
            }
        } else if text.get(position) == Some(&p) {
            position += 1;
        } else {
            return None;
        }
    }
    Some(position)
}

/// Adblock-style matching of a generic rule's pieces, in order, anywhere in `text`.
fn generic_rule_matches(text: &str, pieces: &[&str]) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    for piece in pieces {
        let literal = piece.split('^').find(|l| !l.is_empty()).unwrap_or("");
        // Bytes, not `str`: a `^` match steps one byte, which may land inside a non-ASCII
        // character of the path or query, where slicing the `str` would panic.
        if !literal.is_empty()
            && !bytes[from..]
                .windows(literal.len())
                .any(|window| window == literal.as_bytes())
        {
            return false;
        }
        let piece = piece.as_bytes();
        let Some(end) = (from..=bytes.len()).find_map(|at| piece_matches_at(bytes, at, piece))
        else {
            return false;
        };
        from = end;
    }
    true
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
    let (host, path, _query, params) = split_url_query(url)?;
    Ok((host, path, params))
}

/// [`split_url`] plus the raw query string.
fn split_url_query(url: &str) -> Result<(String, String, String, Vec<String>), Error> {
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
    Ok((host, path.to_string(), query.to_string(), params))
}

/// The registrable domain (eTLD+1) of a host, by the Public Suffix List (ICANN and private
/// sections, as browsers use it; shipped in Debian's uBlock Origin package, see
/// `data/SOURCES.md`). A host that is itself a public suffix is its own registrable domain.
pub fn registrable_domain(host: &str) -> &str {
    let lists = lists();
    let labels: Vec<usize> = std::iter::once(0)
        .chain(host.match_indices('.').map(|(at, _)| at + 1))
        .collect();
    // The longest matching rule wins; the default rule `*` makes the last label a suffix.
    let mut suffix_start = *labels.last().unwrap_or(&0);
    for (i, &start) in labels.iter().enumerate() {
        let candidate = &host[start..];
        if lists.suffix_exceptions.contains(candidate) {
            suffix_start = labels.get(i + 1).copied().unwrap_or(host.len());
            break;
        }
        let parent = labels.get(i + 1).map(|&p| &host[p..]);
        if lists.suffixes.contains(candidate)
            || parent.is_some_and(|p| lists.wildcard_suffixes.contains(p))
        {
            suffix_start = start;
            break;
        }
    }
    match labels.iter().rposition(|&start| start < suffix_start) {
        Some(i) => &host[labels[i]..],
        None => host,
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

/// The lower-case extension of a path's last segment (`js`, `gif`), if it looks like one.
fn file_extension(path: &str) -> Option<String> {
    let last = path.rsplit('/').next()?;
    let (_, extension) = last.rsplit_once('.')?;
    ((1..=5).contains(&extension.len()) && extension.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| extension.to_ascii_lowercase())
}

/// FNV-1a, 64-bit: a stable hash (no dependency, same on every machine).
pub(crate) fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A feature name's slot: the top [`FEATURE_BITS`] of its FNV-1a hash.
fn feature_index(name: &str) -> usize {
    (fnv1a(name) >> (64 - FEATURE_BITS)) as usize
}

/// A feature: its hashed index and whether it names the service (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Feature {
    index: usize,
    names_service: bool,
}

/// The feature names of a request (public for tests and for showing the member "why").
pub fn feature_names(request: &Request) -> Result<Vec<(String, bool)>, Error> {
    let (host, path, query, params) = split_url_query(&request.url)?;
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
    if let Some(extension) = file_extension(&path) {
        // A third party's script or pixel is a different thing from the site's own.
        names.push((format!("ext:{extension}"), false));
        if third_party {
            names.push((format!("third_party_ext:{extension}"), false));
        }
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
    {
        // EasyPrivacy's host-less rules (`/matomo.js`, `://analytics-cdn.`), matched
        // against the whole URL (lower case, no fragment) as an adblocker does.
        let scheme = request.url.split_once("://").map_or("https", |(s, _)| s);
        let target = if query.is_empty() {
            format!("{scheme}://{host}{path}").to_ascii_lowercase()
        } else {
            format!("{scheme}://{host}{path}?{query}").to_ascii_lowercase()
        };
        let generic = lists.generic.iter().any(|rule| {
            let applies = match rule.party {
                Party::Any => true,
                Party::Third => third_party,
                Party::First => !third_party,
            };
            applies && generic_rule_matches(&target, &rule.pieces)
        });
        if generic {
            names.push(("list:easyprivacy_generic".into(), false));
        }
    }
    if domain_and_parents(&host).any(|d| lists.ad_hosts.contains(d)) {
        names.push(("list:easylist_host".into(), false));
    }
    if domain_and_parents(&host).any(|d| lists.yellow.contains(d)) {
        names.push(("list:yellowlist".into(), false));
    }
    // Privacy Badger's own learning, on popular sites: the nearest listed domain decides.
    match domain_and_parents(&host).find_map(|d| lists.badger.get(d)) {
        Some((true, _)) => names.push(("list:badger_tracker".into(), false)),
        Some((false, sites)) if *sites > 0 => names.push(("list:badger_seen".into(), false)),
        _ => {}
    }
    let subdomain = host.strip_suffix(site).unwrap_or("").trim_end_matches('.');
    for label in words(subdomain) {
        names.push((format!("label:{label}"), false));
    }
    {
        // EasyPrivacy's path words inside host names (`gameanalytics`, `telemetry.`).
        let name = site.split('.').next().unwrap_or("");
        // In the file's order (a `HashSet` would order features differently per process).
        for word in EASYPRIVACY_WORDS.lines() {
            if word.len() >= 4 && (name.contains(word) || subdomain.contains(word)) {
                names.push((format!("hostword:{word}"), false));
            }
        }
    }
    {
        // The purpose stems (see [`PURPOSE_STEMS`]), once per group.
        let text = {
            let mut text = format!("{host} {path}").to_ascii_lowercase();
            for field in params.iter().chain(&request.field_names) {
                text.push(' ');
                text.push_str(&field.to_ascii_lowercase());
            }
            text
        };
        for (group, stems) in PURPOSE_STEMS {
            if stems.iter().any(|stem| text.contains(stem)) {
                names.push((format!("purpose:{group}"), false));
            }
        }
    }
    let mut listed_words = 0;
    let mut path_words: Vec<String> = words(&path).collect();
    {
        // camelCase inside path words: `metricsBatch` also gives `metrics`, `batch`.
        for word in path.split(|c: char| !c.is_ascii_alphabetic()) {
            let parts = field_words(word);
            if parts.len() > 1 {
                path_words.extend(parts.into_iter().filter(|w| w.len() >= 3));
            }
        }
    }
    for word in &path_words {
        if lists.words.contains(word.as_str()) {
            listed_words += 1;
        }
        names.push((format!("path:{word}"), false));
        if word.len() > 5 {
            names.push((format!("p5:{}", &word[..5]), false));
        }
    }
    {
        // Five-letter prefixes of longer words (`telem`, `metri`, `analy`): one feature for
        // a word's inflections and compounds.
        for label in words(subdomain) {
            if label.len() > 5 {
                names.push((format!("p5:{}", &label[..5]), false));
            }
        }
        for field in params.iter().chain(&request.field_names) {
            for word in field_words(field) {
                if word.len() > 5 {
                    names.push((format!("p5:{}", &word[..5]), false));
                }
            }
        }
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
        Ok(if self.score(request)? >= COMMERCIAL_THRESHOLD {
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
        self.train_features(&features, label);
        Ok(())
    }

    fn train_features(&mut self, features: &[Feature], label: Label) {
        let gradient = sigmoid(self.margin(features)) - Self::target(label);
        for feature in features {
            let accumulator = &mut self.squared_gradients[feature.index];
            *accumulator += gradient * gradient;
            let step = TRAIN_RATE / (1.0 + accumulator.sqrt());
            self.weights[feature.index] -= step * gradient;
        }
    }

    /// Trains `epochs` passes over `examples`, in order (deterministic). Each request's
    /// features are extracted once.
    pub fn fit(&mut self, examples: &[(Request, Label)], epochs: usize) -> Result<(), Error> {
        let prepared = examples
            .iter()
            .map(|(request, label)| Ok((features(request)?, *label)))
            .collect::<Result<Vec<_>, Error>>()?;
        for _ in 0..epochs {
            for (features, label) in &prepared {
                self.train_features(features, *label);
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
        // Public Suffix List: private suffixes, wildcard and exception rules.
        assert_eq!(
            registrable_domain("docs.someone.github.io"),
            "someone.github.io"
        );
        assert_eq!(registrable_domain("github.io"), "github.io");
        assert_eq!(registrable_domain("a.b.example.ck"), "b.example.ck");
        assert_eq!(registrable_domain("a.www.ck"), "www.ck");
        assert_eq!(registrable_domain("shop.example.com.br"), "example.com.br");
    }

    #[test]
    fn easyprivacy_generic_rules_match_like_an_adblocker() {
        // rule W2: seeded from EasyPrivacy's host-less rules, not only its hosts.
        assert!(generic_rule_matches(
            "stats.example.org/matomo.js",
            &["/matomo.js"]
        ));
        assert!(generic_rule_matches(
            "x.example/a/pixel?id=1",
            &["/a/", "pixel^"]
        ));
        assert!(!generic_rule_matches("x.example/pixels", &["/pixel^"]));
        assert!(generic_rule_matches("x.example/pixel", &["/pixel^"]));
        assert!(!generic_rule_matches("x.example/b/a/", &["/a/", "/b/"]));
        // A `^` that steps onto a multi-byte character (a shipped EasyPrivacy rule's shape)
        // does not panic: a non-ASCII character is a separator, as in uBlock's `[^%.0-9a-z_-]`.
        assert!(generic_rule_matches(
            "x.test/.umusic-online.com\u{e9}/o.gif",
            &[".umusic-online.com^", "/o.gif"]
        ));
        assert!(generic_rule_matches(
            "x.test/.umusic-online.com/\u{e9}/o.gif",
            &[".umusic-online.com^", "/o.gif"]
        ));
        let names = |url: &str| -> Vec<String> {
            feature_names(&request("blog.example.org", url))
                .unwrap()
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        let first_party_analytics = names("https://stats.example.org/matomo.js");
        assert!(first_party_analytics.contains(&"list:easyprivacy_generic".to_string()));
        assert!(!names("https://www.example.org/app.js")
            .contains(&"list:easyprivacy_generic".to_string()));
    }

    #[test]
    fn purpose_stems_name_what_a_request_is_for() {
        // rule W2: words people read as a purpose, wherever they stand in the request.
        let purposes = |url: &str| -> Vec<String> {
            feature_names(&request("shop.example.com", url))
                .unwrap()
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| name.starts_with("purpose:"))
                .collect()
        };
        assert_eq!(
            purposes("https://api.vendor.test/v3/notices?key=x"),
            ["purpose:fault"]
        );
        assert_eq!(
            purposes("https://ac.vendor.test/v2/behavioral_action/click"),
            ["purpose:measure"]
        );
        assert_eq!(
            purposes("https://cdn.vendor.test/consent/record"),
            ["purpose:measure", "purpose:consent"]
        );
        assert!(purposes("https://cdn.vendor.test/lib/app.js").is_empty());
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
