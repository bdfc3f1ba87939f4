//! SVG charts written by hand: a few hundred lines of string building compile in a blink, where a
//! plotting crate would add minutes to every clean build.
//!
//! Each chart is a stack of panels; a panel has an x range, a y range from its data, line series,
//! shaded horizontal bands and vertical markers.

use crate::summary::rolling_ratios;
use crate::{Outcome, Scenario};
use assay_core::{Category, Rules};
use std::fmt::Write;

const WIDTH: f64 = 900.0;
const PANEL_HEIGHT: f64 = 220.0;
const MARGIN_LEFT: f64 = 70.0;
const MARGIN_RIGHT: f64 = 150.0;
const MARGIN_TOP: f64 = 30.0;
const MARGIN_BOTTOM: f64 = 30.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// One line; `None` points are gaps.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, Option<f64>)>,
    pub color: &'static str,
    pub dashed: bool,
}

/// A shaded y-range over an x-range, with a label.
pub struct Band {
    pub x: [f64; 2],
    pub y: [f64; 2],
    pub color: &'static str,
    pub label: String,
}

#[derive(Default)]
pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
    /// Vertical markers: x and label.
    pub markers: Vec<(f64, String)>,
    /// Force these values into the y range.
    pub y_include: Vec<f64>,
    pub note: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders panels stacked vertically over a shared x range.
pub fn render(title: &str, x_label: &str, x_range: [f64; 2], panels: &[Panel]) -> String {
    let height = 40.0 + PANEL_HEIGHT * panels.len() as f64;
    let mut svg = String::new();
    // Writing to a String cannot fail; the results are ignored with `let _`.
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    for (index, panel) in panels.iter().enumerate() {
        let top = 40.0 + PANEL_HEIGHT * index as f64;
        render_panel(&mut svg, panel, top, x_label, x_range);
    }
    svg.push_str("</svg>\n");
    svg
}

fn render_panel(svg: &mut String, panel: &Panel, top: f64, x_label: &str, x_range: [f64; 2]) {
    let plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let plot_h = PANEL_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let mut ys: Vec<f64> = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .chain(panel.bands.iter().flat_map(|b| b.y))
        .chain(panel.y_include.iter().copied())
        .filter(|y| y.is_finite())
        .collect();
    if ys.is_empty() {
        ys.push(0.0);
    }
    let mut y_min = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let mut y_max = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if (y_max - y_min).abs() < 1e-12 {
        y_min -= 1.0;
        y_max += 1.0;
    }
    let pad = (y_max - y_min) * 0.05;
    let (y_min, y_max) = (y_min - pad, y_max + pad);
    let x_span = (x_range[1] - x_range[0]).max(1e-9);
    let px = |x: f64| MARGIN_LEFT + (x - x_range[0]) / x_span * plot_w;
    let py = |y: f64| top + MARGIN_TOP + (y_max - y) / (y_max - y_min) * plot_h;

    let _ = writeln!(
        svg,
        r#"<text x="{MARGIN_LEFT}" y="{}" font-size="12" font-weight="bold">{}</text>"#,
        top + MARGIN_TOP - 8.0,
        escape(&panel.title)
    );
    for band in &panel.bands {
        let (x0, x1) = (px(band.x[0]), px(band.x[1]));
        let (y0, y1) = (py(band.y[1]), py(band.y[0]));
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="{}" fill-opacity="0.18"/><text x="{:.1}" y="{:.1}" fill="{}" font-size="10">{}</text>"#,
            (x1 - x0).max(1.0),
            (y1 - y0).max(1.0),
            band.color,
            x0 + 2.0,
            y0 + 11.0,
            band.color,
            escape(&band.label)
        );
    }
    // Axes, five y ticks, x ticks at sixths.
    let bottom = top + MARGIN_TOP + plot_h;
    let _ = writeln!(
        svg,
        r##"<path d="M{MARGIN_LEFT},{} V{bottom:.1} H{:.1}" stroke="#444" fill="none"/>"##,
        top + MARGIN_TOP,
        MARGIN_LEFT + plot_w
    );
    for i in 0..=4 {
        let y = y_min + (y_max - y_min) * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{MARGIN_LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            MARGIN_LEFT + plot_w,
            py(y),
            py(y),
            MARGIN_LEFT - 4.0,
            py(y) + 4.0,
            tick(y)
        );
    }
    for i in 0..=6 {
        let x = x_range[0] + x_span * f64::from(i) / 6.0;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            px(x),
            bottom + 14.0,
            tick(x)
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#666">{}</text><text x="12" y="{:.1}" transform="rotate(-90 12 {:.1})" text-anchor="middle" fill="#666">{}</text>"##,
        MARGIN_LEFT + plot_w,
        bottom + 26.0,
        escape(x_label),
        top + MARGIN_TOP + plot_h / 2.0,
        top + MARGIN_TOP + plot_h / 2.0,
        escape(&panel.y_label)
    );
    for (x, label) in &panel.markers {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{bottom:.1}" stroke="#d62728" stroke-width="2"/><text x="{2:.1}" y="{3:.1}" fill="#d62728" font-size="10">{4}</text>"##,
            px(*x),
            top + MARGIN_TOP,
            px(*x) + 3.0,
            top + MARGIN_TOP + 10.0,
            escape(label)
        );
    }
    for (index, series) in panel.series.iter().enumerate() {
        let mut path = String::new();
        let mut pen_down = false;
        for &(x, y) in &series.points {
            match y {
                Some(y) if y.is_finite() => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        px(x),
                        py(y)
                    );
                    pen_down = true;
                }
                _ => pen_down = false,
            }
        }
        let dash = if series.dashed {
            r#" stroke-dasharray="5,3""#
        } else {
            ""
        };
        let legend_y = top + MARGIN_TOP + 12.0 * index as f64 + 6.0;
        let _ = writeln!(
            svg,
            r#"<path d="{path}" stroke="{0}" fill="none" stroke-width="1.5"{dash}/><line x1="{1:.1}" x2="{2:.1}" y1="{legend_y:.1}" y2="{legend_y:.1}" stroke="{0}" stroke-width="2"{dash}/><text x="{3:.1}" y="{4:.1}">{5}</text>"#,
            series.color,
            MARGIN_LEFT + plot_w + 8.0,
            MARGIN_LEFT + plot_w + 26.0,
            MARGIN_LEFT + plot_w + 30.0,
            legend_y + 4.0,
            escape(&series.name)
        );
    }
    if let Some(note) = &panel.note {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" fill="#444" font-style="italic">{}</text>"##,
            MARGIN_LEFT + 8.0,
            bottom - 8.0,
            escape(note)
        );
    }
}

fn tick(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1_000_000.0 {
        format!("{:.1}M", value / 1_000_000.0)
    } else if magnitude >= 10_000.0 {
        format!("{:.0}k", value / 1_000.0)
    } else if magnitude >= 100.0 || (magnitude >= 1.0 && value.fract().abs() < 1e-9) {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else if magnitude >= 0.01 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    }
}

const USD: f64 = 1_000_000.0;

/// Every chart of a run, as (file name, SVG text).
pub fn all(scenario: &Scenario, rules: &Rules, outcome: &Outcome) -> Vec<(String, String)> {
    vec![
        ("spot_floor.svg".to_string(), spot_floor(outcome)),
        (
            "supply_ratio.svg".to_string(),
            supply_ratio(scenario, outcome),
        ),
        ("income.svg".to_string(), income(scenario, outcome)),
        ("operations.svg".to_string(), operations(rules, outcome)),
        ("breakers.svg".to_string(), breakers(rules, outcome)),
    ]
}

fn day_range(outcome: &Outcome) -> [f64; 2] {
    [0.0, outcome.observer.days.len().max(1) as f64]
}

fn breaker_markers(outcome: &Outcome, category: Option<Category>) -> Vec<(f64, String)> {
    outcome
        .observer
        .breaker_events
        .iter()
        .filter(|e| category.is_none_or(|c| c == e.category))
        .map(|e| (f64::from(e.day), format!("breaker: {}", e.category)))
        .collect()
}

fn spot_floor(outcome: &Outcome) -> String {
    let days = &outcome.observer.days;
    let panels: Vec<Panel> = Category::ALL
        .iter()
        .map(|&category| {
            let c = category.index();
            let line =
                |name: &str, color, dashed, f: fn(&crate::observe::CategoryDay) -> u64| Series {
                    name: name.to_string(),
                    points: days
                        .iter()
                        .map(|d| (f64::from(d.day), Some(f(&d.categories[c]) as f64 / USD)))
                        .collect(),
                    color,
                    dashed,
                };
            Panel {
                title: category.as_str().to_string(),
                y_label: "USD per member-day".to_string(),
                series: vec![
                    line("spot", COLORS[0], false, |d| d.spot_micros),
                    line("floor", COLORS[1], true, |d| d.floor_micros),
                ],
                markers: breaker_markers(outcome, Some(category)),
                ..Panel::default()
            }
        })
        .collect();
    render(
        "Spot and floor per category (M2, M3)",
        "simulated day",
        day_range(outcome),
        &panels,
    )
}

fn supply_ratio(scenario: &Scenario, outcome: &Outcome) -> String {
    let warmup = f64::from(scenario.warmup_days);
    let range = day_range(outcome);
    let panels: Vec<Panel> = Category::ALL
        .iter()
        .map(|&category| Panel {
            title: category.as_str().to_string(),
            y_label: "sold ÷ demanded, 7 days".to_string(),
            series: vec![Series {
                name: "rolling ratio".to_string(),
                points: rolling_ratios(&outcome.observer, category)
                    .into_iter()
                    .enumerate()
                    .map(|(day, ratio)| (day as f64, ratio))
                    .collect(),
                color: COLORS[0],
                dashed: false,
            }],
            bands: vec![
                Band {
                    x: [range[0], warmup.min(range[1])],
                    y: [0.5, 1.0],
                    color: "#999999",
                    label: "warm-up".to_string(),
                },
                Band {
                    x: range,
                    y: [0.94, 0.96],
                    color: "#2ca02c",
                    label: "target 0.95 ± 0.01".to_string(),
                },
            ],
            y_include: vec![1.0],
            ..Panel::default()
        })
        .collect();
    render(
        "Supply ratio against the 95% target (M10)",
        "simulated day",
        range,
        &panels,
    )
}

fn income(scenario: &Scenario, outcome: &Outcome) -> String {
    let months = &outcome.summary.member_income_by_month;
    let x = |i: usize| i as f64 + 0.5;
    let decile = |k: usize| Series {
        name: format!("{}0th percentile", k + 1),
        points: months
            .iter()
            .enumerate()
            .map(|(i, m)| (x(i), Some(m.deciles_micros[k] as f64 / USD)))
            .collect(),
        color: "#7f7f7f",
        dashed: true,
    };
    let mut series = vec![Series {
        name: "median".to_string(),
        points: months
            .iter()
            .enumerate()
            .map(|(i, m)| (x(i), Some(m.median_micros as f64 / USD)))
            .collect(),
        color: COLORS[0],
        dashed: false,
    }];
    series.push(Series {
        name: "mean".to_string(),
        points: months
            .iter()
            .enumerate()
            .map(|(i, m)| (x(i), Some(m.mean_micros as f64 / USD)))
            .collect(),
        color: COLORS[2],
        dashed: false,
    });
    series.extend([0, 8].map(decile));
    let mut bands = Vec::new();
    for (i, month) in months.iter().enumerate() {
        let phase = scenario.phases.iter().find(|p| p.label == month.phase);
        if let Some(range) = phase.and_then(|p| p.figure5_usd) {
            bands.push(Band {
                x: [i as f64, i as f64 + 1.0],
                y: range,
                color: "#ff7f0e",
                label: if i == 0 || months[i - 1].phase != month.phase {
                    format!("Fig. 5: ${}-{}", range[0], range[1])
                } else {
                    String::new()
                },
            });
        }
    }
    let phases: Vec<String> =
        months
            .iter()
            .map(|m| m.phase.clone())
            .fold(Vec::new(), |mut acc, p| {
                if acc.last() != Some(&p) {
                    acc.push(p);
                }
                acc
            });
    let panel = Panel {
        title: format!("Member monthly income by phase: {}", phases.join(" → ")),
        y_label: "USD per member-month".to_string(),
        series,
        bands,
        y_include: vec![0.0],
        note: Some("orange: Figure 5's projected average income for the phase".to_string()),
        ..Panel::default()
    };
    render(
        "Member monthly income: median, mean, 10th and 90th percentiles (D3-D8)",
        "month",
        [0.0, months.len().max(1) as f64],
        &[panel],
    )
}

fn operations(rules: &Rules, outcome: &Outcome) -> String {
    let months = &outcome.summary.member_income_by_month;
    let line = |name: &str, color, dashed, f: fn(&crate::summary::MonthIncome) -> u64| Series {
        name: name.to_string(),
        points: months
            .iter()
            .enumerate()
            .map(|(i, m)| (i as f64 + 0.5, Some(f(m) as f64 / USD)))
            .collect(),
        color,
        dashed,
    };
    let panel = Panel {
        title: format!(
            "Operations' share against the cold-start guarantee (${:.2} a month, D8)",
            rules.cold_start.guarantee_micros.get() as f64 / USD
        ),
        y_label: "USD per month".to_string(),
        series: vec![
            line("operations' 10%", COLORS[0], false, |m| {
                m.operations_gross_micros
            }),
            line("top-ups owed", COLORS[1], false, |m| {
                m.cold_start_topups_owed_micros
            }),
            line("top-ups paid", COLORS[1], true, |m| {
                m.cold_start_topups_paid_micros
            }),
            line("operating costs paid", COLORS[2], true, |m| {
                m.operating_costs_paid_micros
            }),
        ],
        y_include: vec![0.0],
        ..Panel::default()
    };
    render(
        "Operations' share vs cold-start cost",
        "month",
        [0.0, months.len().max(1) as f64],
        &[panel],
    )
}

fn breakers(rules: &Rules, outcome: &Outcome) -> String {
    let days = &outcome.observer.days;
    let series = Category::ALL
        .iter()
        .enumerate()
        .map(|(i, &category)| {
            let start = rules.category(category).start_price_micros.get() as f64;
            Series {
                name: category.as_str().to_string(),
                points: days
                    .iter()
                    .map(|d| {
                        let spot = d.categories[category.index()].spot_micros as f64;
                        (f64::from(d.day), Some(spot / start))
                    })
                    .collect(),
                color: COLORS[i],
                dashed: false,
            }
        })
        .collect();
    let count = outcome.observer.breaker_events.len();
    let panel = Panel {
        title: "Spot relative to the starting price, and circuit-breaker trips (M4)".to_string(),
        y_label: "spot ÷ starting price".to_string(),
        series,
        markers: breaker_markers(outcome, None),
        y_include: vec![1.0],
        note: Some(format!("{count} breaker event(s)")),
        ..Panel::default()
    };
    render(
        "Breaker events",
        "simulated day",
        day_range(outcome),
        &[panel],
    )
}
