//! Honest evaluation of the W2 classifier (issue 8): precision and recall of "commercial" on
//! requests of companies the model never trained on, and a learning curve of how many member
//! corrections fix a service it gets wrong.
//!
//! * Training: every request of `data/requests_labelled.tsv`, `data/requests_train_extra.tsv`
//!   and `data/requests_fresh1.tsv` to `data/requests_fresh3.tsv` (written for Assay, rubric in
//!   the first file's header).
//!   Earlier stops held parts of these out; each was evaluated and has since become training
//!   data (README gives those figures). Feature and threshold choices are made by grouped
//!   cross-validation on the training companies only ([`cross_validate`]).
//! * Held out: `data/requests_fresh4a_test.tsv` and `data/requests_fresh4b_test.tsv` (companies
//!   A–L and M–Z, written at once by two helpers), companies and registrable domains in no training
//!   file, labelled before any model ran on it, its SHA-256 pinned in a test. Its figures are
//!   the headline (`commercial_precision`, `commercial_recall`, `corrections_to_fix_median`).
//! * The learning curve starts from the trained model for every misclassified test service
//!   (company and host), lets a simulated member correct one wrong request of that service at a
//!   time, and counts corrections until every request of the service is right ([`CORRECTIONS_MAX`]
//!   caps a service that never converges; it then counts as not fixed). Collateral damage, test
//!   requests of *other* services that a service's corrections turn wrong, is counted too.

use crate::classifier::{
    fnv1a, Classifier, Decision, Label, Request, COMMERCIAL_THRESHOLD, TRAIN_EPOCHS,
};
use crate::Error;
use serde::Serialize;

/// The training files, by name.
pub static TRAINING_REQUESTS: [(&str, &str); 5] = [
    (
        "requests_labelled.tsv",
        include_str!("../data/requests_labelled.tsv"),
    ),
    (
        "requests_train_extra.tsv",
        include_str!("../data/requests_train_extra.tsv"),
    ),
    (
        "requests_fresh1.tsv",
        include_str!("../data/requests_fresh1.tsv"),
    ),
    (
        "requests_fresh2.tsv",
        include_str!("../data/requests_fresh2.tsv"),
    ),
    (
        "requests_fresh3.tsv",
        include_str!("../data/requests_fresh3.tsv"),
    ),
];
/// The held-out set (the headline), in two files.
pub static HELD_OUT_REQUESTS: [(&str, &str); 2] = [
    (
        "requests_fresh4a_test.tsv",
        include_str!("../data/requests_fresh4a_test.tsv"),
    ),
    (
        "requests_fresh4b_test.tsv",
        include_str!("../data/requests_fresh4b_test.tsv"),
    ),
];
/// Corrections tried per service before giving up on it.
pub const CORRECTIONS_MAX: usize = 20;

#[derive(Debug, Clone)]
pub struct Example {
    pub company: String,
    pub request: Request,
    pub label: Label,
}

/// Parses the labelled TSV (see its header for the columns).
pub fn parse_labelled(text: &str) -> Result<Vec<Example>, Error> {
    let mut examples = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        let [company, first_party, method, url, headers, fields, label] = columns[..] else {
            return Err(Error::BadLabelledLine { line: number + 1 });
        };
        let list = |text: &str| -> Vec<String> {
            text.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let label = match label {
            "c" => Label::Commercial,
            "u" => Label::Utility,
            _ => return Err(Error::BadLabelledLine { line: number + 1 }),
        };
        examples.push(Example {
            company: company.to_string(),
            request: Request {
                first_party: first_party.to_string(),
                method: method.to_string(),
                url: url.to_string(),
                header_names: list(headers),
                field_names: list(fields),
            },
            label,
        });
    }
    Ok(examples)
}

/// The model a wallet starts with: the seed, trained on `train`.
pub fn trained_model(train: &[Example]) -> Result<Classifier, Error> {
    let train: Vec<(Request, Label)> = train.iter().map(|e| (e.request.clone(), e.label)).collect();
    let mut model = Classifier::seeded();
    model.fit(&train, TRAIN_EPOCHS)?;
    Ok(model)
}

/// Folds of the grouped cross-validation on the training companies (for tuning without
/// touching either test set).
pub const CV_FOLDS: u64 = 5;

fn fold_of(company: &str) -> u64 {
    (fnv1a(company) / 10) % CV_FOLDS
}

/// Grouped cross-validation on the training examples only: each fold's companies are scored
/// by a model trained on the other folds. Returns each example's score, in `train`'s order.
pub fn cross_validation_scores(train: &[Example]) -> Result<Vec<f32>, Error> {
    let mut scores = vec![0.0; train.len()];
    for fold in 0..CV_FOLDS {
        let fit: Vec<Example> = train
            .iter()
            .filter(|e| fold_of(&e.company) != fold)
            .cloned()
            .collect();
        let model = trained_model(&fit)?;
        for (score, example) in scores.iter_mut().zip(train) {
            if fold_of(&example.company) == fold {
                *score = model.score(&example.request)?;
            }
        }
    }
    Ok(scores)
}

/// Counts of cross-validation `scores` at `threshold`, and the examples wrong at it (for whoever
/// tunes the features: they may look at these, never at the held-out set).
pub fn cross_validation_counts<'a>(
    train: &'a [Example],
    scores: &[f32],
    threshold: f32,
) -> (Counts, Vec<&'a Example>) {
    let mut counts = Counts::default();
    let mut wrong = Vec::new();
    for (example, score) in train.iter().zip(scores) {
        let predicted = if *score >= threshold {
            Label::Commercial
        } else {
            Label::Utility
        };
        counts.add(example.label, predicted);
        if predicted != example.label {
            wrong.push(example);
        }
    }
    (counts, wrong)
}

/// [`cross_validation_scores`] counted at the classifier's threshold.
pub fn cross_validate(train: &[Example]) -> Result<Counts, Error> {
    let scores = cross_validation_scores(train)?;
    Ok(cross_validation_counts(train, &scores, COMMERCIAL_THRESHOLD).0)
}

/// The examples of named data files, in order.
fn examples_of(files: &[(&str, &str)]) -> Result<Vec<Example>, Error> {
    let mut all = Vec::new();
    for (_, text) in files {
        all.extend(parse_labelled(text)?);
    }
    Ok(all)
}

/// The training examples of the shipped data files.
pub fn shipped_training_examples() -> Result<Vec<Example>, Error> {
    examples_of(&TRAINING_REQUESTS)
}

/// The wallet's model for a member: the trained model plus the member's own decisions.
pub fn member_model(decisions: &[Decision]) -> Result<Classifier, Error> {
    let mut model = trained_model(&shipped_training_examples()?)?;
    for decision in decisions {
        model.learn(decision)?;
    }
    Ok(model)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    pub true_commercial: u32,
    pub false_commercial: u32,
    pub missed_commercial: u32,
    pub true_utility: u32,
}

impl Counts {
    fn add(&mut self, truth: Label, predicted: Label) {
        match (truth, predicted) {
            (Label::Commercial, Label::Commercial) => self.true_commercial += 1,
            (Label::Utility, Label::Commercial) => self.false_commercial += 1,
            (Label::Commercial, Label::Utility) => self.missed_commercial += 1,
            (Label::Utility, Label::Utility) => self.true_utility += 1,
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(
            self.true_commercial,
            self.true_commercial + self.false_commercial,
        )
    }

    pub fn recall(&self) -> f64 {
        ratio(
            self.true_commercial,
            self.true_commercial + self.missed_commercial,
        )
    }
}

fn ratio(numerator: u32, denominator: u32) -> f64 {
    if denominator == 0 {
        return 0.0;
    }
    // Rounded to 4 places so reports are stable across platforms' float printing.
    (f64::from(numerator) / f64::from(denominator) * 10_000.0).round() / 10_000.0
}

fn count(model: &Classifier, examples: &[&Example]) -> Result<Counts, Error> {
    let mut counts = Counts::default();
    for example in examples {
        counts.add(example.label, model.classify(&example.request)?);
    }
    Ok(counts)
}

/// One misclassified test service and how its corrections went.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceCurve {
    pub company: String,
    pub host: String,
    pub requests: usize,
    pub wrong_before: usize,
    /// Corrections until every request of the service was right; `None` if not within
    /// [`CORRECTIONS_MAX`].
    pub corrections_to_fix: Option<usize>,
    /// Other services' test requests these corrections turned wrong.
    pub collateral_errors: usize,
}

/// Figures on one held-out set.
#[derive(Debug, Clone, Serialize)]
pub struct HeldOut {
    pub requests: usize,
    pub companies: usize,
    /// The seed alone (lists, no training): the baseline.
    pub seed_only: Counts,
    pub seed_only_commercial_precision: f64,
    pub seed_only_commercial_recall: f64,
    pub counts: Counts,
    pub commercial_precision: f64,
    pub commercial_recall: f64,
    pub misclassified_services: usize,
    pub services_fixed: usize,
    pub corrections_to_fix_median: f64,
    pub corrections_to_fix_max: usize,
    /// `fixed_after[k]`: services fixed with at most k corrections (k = 0..=CORRECTIONS_MAX).
    pub fixed_after: Vec<usize>,
    pub collateral_errors_total: usize,
    pub curves: Vec<ServiceCurve>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Which held-out set the top-level `commercial_*` and `corrections_to_fix_median` keys
    /// report: `"fresh4"`, the set no choice was made on (it was run once, after the model was
    /// fixed; since then `held_out_figures_do_not_regress` guards it, so later changes are no
    /// longer blind to it).
    pub headline_set: &'static str,
    pub commercial_precision: f64,
    pub commercial_recall: f64,
    pub corrections_to_fix_median: f64,
    pub train_requests: usize,
    pub train_companies: usize,
    /// Grouped 5-fold cross-validation on the training companies (what tuning may look at).
    pub train_cv_commercial_precision: f64,
    pub train_cv_commercial_recall: f64,
    /// The score at or above which a request is commercial.
    pub threshold: f32,
    /// `data/requests_fresh4{a,b}_test.tsv`: the held-out set (the headline).
    pub held_out: HeldOut,
}

fn companies(examples: &[Example]) -> usize {
    let mut names: Vec<&str> = examples.iter().map(|e| e.company.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

fn host_of(request: &Request) -> String {
    crate::classifier::split_url(&request.url)
        .map(|(host, _, _)| host)
        .unwrap_or_default()
}

/// Runs the whole evaluation: trains on `train`, then scores the held-out set.
pub fn evaluate(train: &[Example], held_out_set: &[Example]) -> Result<Evaluation, Error> {
    let cv = cross_validate(train)?;
    let model = trained_model(train)?;
    let set = held_out(&model, held_out_set)?;
    Ok(Evaluation {
        headline_set: "fresh4",
        commercial_precision: set.commercial_precision,
        commercial_recall: set.commercial_recall,
        corrections_to_fix_median: set.corrections_to_fix_median,
        train_requests: train.len(),
        train_companies: companies(train),
        train_cv_commercial_precision: cv.precision(),
        train_cv_commercial_recall: cv.recall(),
        threshold: COMMERCIAL_THRESHOLD,
        held_out: set,
    })
}

/// The evaluation of the shipped data files (what `assay wallet eval` prints).
pub fn evaluate_shipped() -> Result<Evaluation, Error> {
    evaluate(
        &shipped_training_examples()?,
        &examples_of(&HELD_OUT_REQUESTS)?,
    )
}

/// Precision, recall and the learning curve of `model` on one held-out set.
fn held_out(model: &Classifier, examples: &[Example]) -> Result<HeldOut, Error> {
    let test: Vec<&Example> = examples.iter().collect();
    let seed_only = count(&Classifier::seeded(), &test)?;
    let counts = count(model, &test)?;
    // Services: (company, host) groups of the test part, in first-seen order.
    let mut services: Vec<(String, String, Vec<&Example>)> = Vec::new();
    for example in &test {
        let host = host_of(&example.request);
        match services
            .iter_mut()
            .find(|(c, h, _)| *c == example.company && *h == host)
        {
            Some((_, _, members)) => members.push(example),
            None => services.push((example.company.clone(), host, vec![example])),
        }
    }
    let mut curves = Vec::new();
    for (company, host, members) in &services {
        let wrong = |m: &Classifier| -> Result<Vec<&Example>, Error> {
            let mut wrong = Vec::new();
            for example in members {
                if m.classify(&example.request)? != example.label {
                    wrong.push(*example);
                }
            }
            Ok(wrong)
        };
        let wrong_before = wrong(model)?.len();
        if wrong_before == 0 {
            continue;
        }
        let mut corrected = model.clone();
        let mut corrections = 0;
        let mut fixed = None;
        while corrections < CORRECTIONS_MAX {
            let still_wrong = wrong(&corrected)?;
            let Some(first) = still_wrong.first() else {
                fixed = Some(corrections);
                break;
            };
            corrected.learn(&Decision {
                request: first.request.clone(),
                label: first.label,
            })?;
            corrections += 1;
        }
        if fixed.is_none() && wrong(&corrected)?.is_empty() {
            fixed = Some(corrections);
        }
        let mut collateral = 0;
        for example in &test {
            let other = !(example.company == *company && host_of(&example.request) == *host);
            if other
                && model.classify(&example.request)? == example.label
                && corrected.classify(&example.request)? != example.label
            {
                collateral += 1;
            }
        }
        curves.push(ServiceCurve {
            company: company.clone(),
            host: host.clone(),
            requests: members.len(),
            wrong_before,
            corrections_to_fix: fixed,
            collateral_errors: collateral,
        });
    }
    let mut needed: Vec<usize> = curves.iter().filter_map(|c| c.corrections_to_fix).collect();
    needed.sort_unstable();
    let median = match needed.len() {
        0 => 0.0,
        n if n % 2 == 1 => needed[n / 2] as f64,
        n => (needed[n / 2 - 1] + needed[n / 2]) as f64 / 2.0,
    };
    let fixed_after = (0..=CORRECTIONS_MAX)
        .map(|k| needed.iter().filter(|&&n| n <= k).count())
        .collect();
    Ok(HeldOut {
        requests: test.len(),
        companies: companies(examples),
        seed_only_commercial_precision: seed_only.precision(),
        seed_only_commercial_recall: seed_only.recall(),
        seed_only,
        commercial_precision: counts.precision(),
        commercial_recall: counts.recall(),
        counts,
        misclassified_services: curves.len(),
        services_fixed: needed.len(),
        corrections_to_fix_median: median,
        corrections_to_fix_max: needed.last().copied().unwrap_or(0),
        fixed_after,
        collateral_errors_total: curves.iter().map(|c| c.collateral_errors).sum(),
        curves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn companies_and_sites(files: &[(&str, &str)]) -> (BTreeSet<String>, BTreeSet<String>) {
        let examples = examples_of(files).unwrap();
        let companies = examples.iter().map(|e| e.company.clone()).collect();
        let sites = examples
            .iter()
            .map(|e| crate::classifier::registrable_domain(&host_of(&e.request)).to_string())
            // Placeholder hosts (a site's own first-party endpoints) are not an entity.
            .filter(|site| !site.starts_with("example."))
            .collect();
        (companies, sites)
    }

    #[test]
    fn the_held_out_set_is_frozen_and_shares_no_company_or_site_with_training() {
        // rule W2, issue 8: the held-out set cannot change silently. A changed hash means its
        // figures are no longer a first look; do not update it to make a result better.
        use sha2::{Digest, Sha256};
        let hashes: Vec<String> = HELD_OUT_REQUESTS
            .iter()
            .map(|(_, text)| hex::encode(Sha256::digest(text.as_bytes())))
            .collect();
        assert_eq!(
            hashes,
            [
                "a444dae065f74d22c5af85091fa0d9f2523c5be6ba17643c4054538bca23196e",
                "691809dff1a826294a973d4f796e134f7eca0e7fddb5f241dbab541887710aab"
            ]
        );
        assert!(examples_of(&HELD_OUT_REQUESTS).unwrap().len() >= 400);
        let (held_companies, held_sites) = companies_and_sites(&HELD_OUT_REQUESTS);
        assert!(held_companies.len() >= 200, "{}", held_companies.len());
        // The two parts were written at once: they share no company or site either.
        let (a_companies, a_sites) = companies_and_sites(&HELD_OUT_REQUESTS[..1]);
        let (b_companies, b_sites) = companies_and_sites(&HELD_OUT_REQUESTS[1..]);
        assert!(a_companies.is_disjoint(&b_companies));
        assert!(
            a_sites.is_disjoint(&b_sites),
            "{:?}",
            a_sites.intersection(&b_sites)
        );
        for file in &TRAINING_REQUESTS {
            let name = file.0;
            let (companies, sites) = companies_and_sites(std::slice::from_ref(file));
            assert!(
                held_companies.is_disjoint(&companies),
                "{name}: {:?}",
                held_companies.intersection(&companies)
            );
            assert!(
                held_sites.is_disjoint(&sites),
                "{name}: {:?}",
                held_sites.intersection(&sites)
            );
        }
    }

    #[test]
    fn print_cross_validation_errors() {
        // For tuning: `ASSAY_PRINT_CV=1 cargo test -p assay-wallet print_cross -- --nocapture`
        // prints precision and recall by threshold and the examples wrong at the shipped one.
        if std::env::var_os("ASSAY_PRINT_CV").is_none() {
            return;
        }
        let train = shipped_training_examples().unwrap();
        let scores = cross_validation_scores(&train).unwrap();
        for percent in 15..=60 {
            let threshold = percent as f32 / 100.0;
            let (counts, _) = cross_validation_counts(&train, &scores, threshold);
            println!(
                "threshold {threshold:.2} precision {} recall {}",
                counts.precision(),
                counts.recall()
            );
        }
        let (_, wrong) = cross_validation_counts(&train, &scores, COMMERCIAL_THRESHOLD);
        for example in wrong {
            println!(
                "{:?}\t{}\t{}",
                example.label, example.company, example.request.url
            );
        }
    }

    #[test]
    fn held_out_figures_do_not_regress() {
        // Issue 8 asks for >= 0.90 commercial precision and recall on held-out companies.
        // Measured once on fresh4 (2026-11-26, stop 15): precision 0.8744 (181/207), recall
        // 0.8117 (181/223): NEITHER bar is met (README, "Wallet"). These floors catch
        // regressions.
        // Raising them needs better features judged by cross-validation on the training
        // companies, never by the held-out set.
        let evaluation = evaluate_shipped().unwrap();
        assert_eq!(evaluation.headline_set, "fresh4");
        let set = &evaluation.held_out;
        assert_eq!(evaluation.commercial_precision, set.commercial_precision);
        assert_eq!(evaluation.commercial_recall, set.commercial_recall);
        assert_eq!(
            evaluation.corrections_to_fix_median,
            set.corrections_to_fix_median
        );
        assert!(
            set.commercial_precision >= 0.87 && set.commercial_recall >= 0.81,
            "precision {} recall {}",
            set.commercial_precision,
            set.commercial_recall
        );
        assert_eq!(set.services_fixed, set.misclassified_services);
        assert_eq!(set.requests, 460);
    }
}
