//! `assay wallet …`: the member's wallet on the command line (issue 8). Wiring only: every rule
//! lives in `assay-wallet`.
//!
//! The passphrase of a wallet file is read from the environment variable named by
//! `--passphrase-env` (default `ASSAY_WALLET_PASSPHRASE`), never from an argument, so it does not
//! land in shell history or `ps`.

use anyhow::Context;
use assay_core::{Category, Micros, Rules};
use assay_wallet::classifier::{Decision, Label, Request};
use assay_wallet::eval::{evaluate_shipped, HeldOut};
use assay_wallet::{tos, KdfParams, SoftwareStore, Vault};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum Wallet {
    /// Create a wallet file with fresh keys (refuses to overwrite one).
    Init {
        #[arg(long)]
        file: PathBuf,
        #[arg(long, default_value = "ASSAY_WALLET_PASSPHRASE")]
        passphrase_env: String,
    },
    /// Show the wallet's public keys and what its vault holds.
    Status {
        #[arg(long)]
        file: PathBuf,
        #[arg(long, default_value = "ASSAY_WALLET_PASSPHRASE")]
        passphrase_env: String,
    },
    /// Import a HAR file: its pages into the vault, its requests through the classifier.
    ImportHar {
        #[arg(long)]
        file: PathBuf,
        har: PathBuf,
        #[arg(long, default_value = "ASSAY_WALLET_PASSPHRASE")]
        passphrase_env: String,
    },
    /// Add seeded synthetic records to the vault (demos and tests).
    Generate {
        #[arg(long)]
        file: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// First day of the records, days since 1970-01-01.
        #[arg(long, default_value_t = 20_000)]
        first_day: i32,
        #[arg(long, default_value = "ASSAY_WALLET_PASSPHRASE")]
        passphrase_env: String,
    },
    /// Allow (utility) or deny (commercial) requests to a host: the decision is kept in the
    /// vault and the classifier learns from it, on this device only (W2).
    Decide {
        #[arg(long)]
        file: PathBuf,
        /// The host the request goes to, e.g. `app-measurement.com`.
        host: String,
        /// The requests are utility calls: let them pass.
        #[arg(long, conflicts_with = "deny", required_unless_present = "deny")]
        allow: bool,
        /// The requests harvest data: intercept them.
        #[arg(long)]
        deny: bool,
        /// The site or app the requests are made for (default: the host itself).
        #[arg(long)]
        first_party: Option<String>,
        #[arg(long, default_value = "/")]
        path: String,
        #[arg(long, default_value = "ASSAY_WALLET_PASSPHRASE")]
        passphrase_env: String,
    },
    /// Evaluate the request classifier (W2) and the terms-of-service auditor (W3).
    Eval {
        #[arg(long)]
        json: bool,
    },
    /// Audit a privacy policy or terms text (W3): categories harvested, evidence, value at spot.
    AuditTos {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn passphrase(variable: &str) -> anyhow::Result<String> {
    std::env::var(variable).with_context(|| format!("set the passphrase in ${variable}"))
}

fn open(file: &Path, variable: &str) -> anyhow::Result<Vault<SoftwareStore>> {
    let store = SoftwareStore::open(file, &passphrase(variable)?)
        .map_err(|e| anyhow::anyhow!("{} [{}]", e, e.code()))
        .with_context(|| format!("opening wallet {}", file.display()))?;
    Vault::open(store).map_err(|e| anyhow::anyhow!("{} [{}]", e, e.code()))
}

fn wallet_error(error: assay_wallet::Error) -> anyhow::Error {
    anyhow::anyhow!("{} [{}]", error, error.code())
}

/// Spot per member-day before any trade: the rules' starting prices. With no exchange
/// connection yet (issue 7), these are the prices a wallet can know offline.
fn starting_spot(category: Category) -> Micros {
    let rules = Rules::from_toml_str(crate::rules_cmd::DEFAULT_RULES)
        .expect("the built-in rules are checked by `assay rules` tests");
    rules.category(category).start_price_micros
}

pub fn run(command: Wallet) -> anyhow::Result<()> {
    match command {
        Wallet::Init {
            file,
            passphrase_env,
        } => {
            let store =
                SoftwareStore::create(&file, &passphrase(&passphrase_env)?, KdfParams::DEFAULT)
                    .map_err(wallet_error)
                    .with_context(|| format!("creating wallet {}", file.display()))?;
            println!("created {}", file.display());
            print_keys(&Vault::open(store).map_err(wallet_error)?);
            Ok(())
        }
        Wallet::Status {
            file,
            passphrase_env,
        } => {
            let vault = open(&file, &passphrase_env)?;
            print_keys(&vault);
            for category in Category::ALL {
                let count = vault
                    .contents
                    .records
                    .iter()
                    .filter(|r| r.category() == category)
                    .count();
                println!("{category:18} {count} records");
            }
            println!("decisions          {}", vault.contents.decisions.len());
            println!("receipts           {}", vault.contents.receipts.len());
            Ok(())
        }
        Wallet::ImportHar {
            file,
            har,
            passphrase_env,
        } => {
            let mut vault = open(&file, &passphrase_env)?;
            let text = std::fs::read_to_string(&har)
                .with_context(|| format!("reading {}", har.display()))?;
            let imported = assay_wallet::har::import(&text).map_err(wallet_error)?;
            let model = assay_wallet::eval::member_model(&vault.contents.decisions)
                .map_err(wallet_error)?;
            for request in &imported.requests {
                let label = model.classify(request).map_err(wallet_error)?;
                println!("{label:?}\t{} {}", request.method, request.url);
            }
            let pages = imported.records.len();
            vault.add_records(imported.records).map_err(wallet_error)?;
            vault.save().map_err(wallet_error)?;
            println!("imported {pages} page visits into {}", file.display());
            Ok(())
        }
        Wallet::Generate {
            file,
            seed,
            days,
            first_day,
            passphrase_env,
        } => {
            let mut vault = open(&file, &passphrase_env)?;
            let records = assay_wallet::synthetic::generate(
                seed,
                assay_core::TradingDay(first_day),
                days,
                None,
            );
            let count = records.len();
            vault.add_records(records).map_err(wallet_error)?;
            vault.save().map_err(wallet_error)?;
            println!("added {count} synthetic records");
            Ok(())
        }
        Wallet::Decide {
            file,
            host,
            allow,
            deny: _,
            first_party,
            path,
            passphrase_env,
        } => {
            let mut vault = open(&file, &passphrase_env)?;
            let path = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            let request = Request {
                first_party: first_party.unwrap_or_else(|| host.clone()),
                method: "GET".to_string(),
                url: format!("https://{host}{path}"),
                header_names: Vec::new(),
                field_names: Vec::new(),
            };
            let label = if allow {
                Label::Utility
            } else {
                Label::Commercial
            };
            let before = assay_wallet::eval::member_model(&vault.contents.decisions)
                .and_then(|model| model.classify(&request))
                .map_err(wallet_error)?;
            vault.add_decision(Decision { request, label });
            let model = assay_wallet::eval::member_model(&vault.contents.decisions)
                .map_err(wallet_error)?;
            let decided = vault.contents.decisions.last().expect("just added");
            let after = model.classify(&decided.request).map_err(wallet_error)?;
            vault.save().map_err(wallet_error)?;
            println!(
                "{host}: was {}, now {} ({} decisions kept)",
                label_name(before),
                label_name(after),
                vault.contents.decisions.len()
            );
            Ok(())
        }
        Wallet::Eval { json } => eval(json),
        Wallet::AuditTos { file, json } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let findings = tos::audit(&text, starting_spot).map_err(wallet_error)?;
            if json {
                println!("{}", serde_json::json!({ "categories": findings }));
                return Ok(());
            }
            if findings.is_empty() {
                println!("no harvested data category found");
            }
            for finding in findings {
                println!(
                    "{}: ${}.{:06} a month at spot",
                    finding.category,
                    finding.value_micros_per_month / 1_000_000,
                    finding.value_micros_per_month % 1_000_000
                );
                for sentence in &finding.evidence {
                    println!("  - {sentence}");
                }
            }
            Ok(())
        }
    }
}

fn label_name(label: Label) -> &'static str {
    match label {
        Label::Utility => "utility",
        Label::Commercial => "commercial",
    }
}

fn print_keys(vault: &Vault<SoftwareStore>) {
    println!("member key  {}", vault.member_key());
    println!("device key  {}", vault.device_key());
}

fn print_held_out(title: &str, set: &HeldOut) {
    println!(
        "  {title}: {} requests of {} companies",
        set.requests, set.companies
    );
    println!(
        "    seed lists only:  commercial precision {:.3}  recall {:.3}",
        set.seed_only_commercial_precision, set.seed_only_commercial_recall
    );
    println!(
        "    trained model:    commercial precision {:.3}  recall {:.3}",
        set.commercial_precision, set.commercial_recall
    );
    println!(
        "    learning curve: {} misclassified services, {} fixed; corrections to fix median {} max {}; collateral errors {}",
        set.misclassified_services,
        set.services_fixed,
        set.corrections_to_fix_median,
        set.corrections_to_fix_max,
        set.collateral_errors_total
    );
    let curve: Vec<String> = set
        .fixed_after
        .iter()
        .enumerate()
        .take(6)
        .map(|(k, n)| format!("{k}:{n}"))
        .collect();
    println!(
        "    services fixed after k corrections  {}",
        curve.join("  ")
    );
    for service in &set.curves {
        println!(
            "      {:28} {:40} wrong {}/{}  fixed after {}",
            service.company,
            service.host,
            service.wrong_before,
            service.requests,
            service
                .corrections_to_fix
                .map_or("never".to_string(), |n| n.to_string())
        );
    }
}

fn eval(json: bool) -> anyhow::Result<()> {
    let classifier = evaluate_shipped().map_err(wallet_error)?;
    let dev = tos::evaluate(&tos::parse_sentences(tos::DEV_SENTENCES).map_err(wallet_error)?);
    let test = tos::evaluate(&tos::parse_sentences(tos::TEST_SENTENCES).map_err(wallet_error)?);
    if json {
        let mut value = serde_json::to_value(&classifier).context("encoding evaluation")?;
        value["tos_dev"] = serde_json::to_value(&dev).context("encoding evaluation")?;
        value["tos_test"] = serde_json::to_value(&test).context("encoding evaluation")?;
        println!("{value}");
        return Ok(());
    }
    let c = &classifier;
    println!("W2 request classifier (held-out companies only)");
    println!(
        "  trained on {} requests of {} companies; grouped 5-fold CV on them: precision {:.3}  recall {:.3}  (threshold {:.2})",
        c.train_requests,
        c.train_companies,
        c.train_cv_commercial_precision,
        c.train_cv_commercial_recall,
        c.threshold
    );
    print_held_out(
        "held-out set fresh4 (run once, after the model was fixed)",
        &c.held_out,
    );
    for (name, result) in [("development", &dev), ("frozen test", &test)] {
        println!(
            "W3 terms-of-service auditor, {name} sentences ({}): micro precision {:.3} recall {:.3}",
            result.sentences, result.micro_precision, result.micro_recall
        );
        for score in &result.categories {
            println!(
                "  {:18} support {:2}  precision {:.3}  recall {:.3}",
                score.category.as_str(),
                score.support,
                score.precision,
                score.recall
            );
        }
    }
    Ok(())
}
