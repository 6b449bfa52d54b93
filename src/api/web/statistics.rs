//! The statistics page (pure HTML): the figures in a table, and charts of
//! intake per week and of each editor's load, each beside a table with the
//! same numbers.

use super::Lang;
use super::chart::{self, Bar, INK, PALE};
use super::i18n::StatsText;
use crate::export::escape;
use crate::store::statistics::Statistics;

pub fn body(lang: Lang, stats: &Statistics) -> String {
    format!(
        "<h1>{title}</h1>{figures}{intake}{editors}",
        title = lang.stats(StatsText::Title),
        figures = figures(lang, stats),
        intake = intake(lang, stats),
        editors = editors(lang, stats),
    )
}

fn figures(lang: Lang, stats: &Statistics) -> String {
    let none = lang.stats(StatsText::NoFigure);
    let people: u64 = stats.weeks.iter().map(|w| w.people).sum();
    let automated: u64 = stats.weeks.iter().map(|w| w.automated).sum();
    let time = stats
        .decision_days
        .map_or(none.to_string(), |p| lang.decision_days(p.median, p.p90));
    let rate = stats
        .acceptance_rate()
        .map_or(none.to_string(), |r| format!("{:.0}%", r * 100.0));
    let rows = [
        (StatsText::People, people.to_string(), "people"),
        (StatsText::Automated, automated.to_string(), "automated"),
        (StatsText::Decided, stats.decided.to_string(), "decided"),
        (StatsText::DecisionTime, time, "decision-time"),
        (StatsText::AcceptanceRate, rate, "acceptance-rate"),
        (StatsText::Overdue, stats.overdue.to_string(), "overdue"),
    ];
    let rows: String = rows
        .iter()
        .map(|(label, value, id)| {
            format!(
                "<tr><th>{}</th><td id=\"figure-{id}\">{}</td></tr>",
                lang.stats(*label),
                escape(value)
            )
        })
        .collect();
    format!(
        "<h2>{}</h2><table id=\"figures\" class=\"figures\">{rows}</table>",
        lang.stats(StatsText::Figures)
    )
}

fn intake(lang: Lang, stats: &Statistics) -> String {
    let bars: Vec<Bar> = stats
        .weeks
        .iter()
        .map(|w| Bar {
            label: w.week_start.format("%m-%d").to_string(),
            parts: vec![(w.people, INK), (w.automated, PALE)],
        })
        .collect();
    let rows: String = stats
        .weeks
        .iter()
        .map(|w| {
            format!(
                "<tr><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
                w.week_start.format("%Y-%m-%d"),
                w.people,
                w.automated
            )
        })
        .collect();
    format!(
        "<h2>{heading}</h2><div class=\"chart-row\">{chart}\
         <table id=\"intake-table\"><thead><tr><th>{week}</th><th>{people}</th><th>{automated}</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>",
        heading = lang.stats(StatsText::Intake),
        chart = chart::bars("intake-chart", lang.stats(StatsText::IntakeChart), &bars),
        week = lang.stats(StatsText::Week),
        people = lang.stats(StatsText::People),
        automated = lang.stats(StatsText::Automated),
    )
}

fn editors(lang: Lang, stats: &Statistics) -> String {
    let bars: Vec<Bar> = stats
        .editors
        .iter()
        .map(|e| Bar {
            label: e.name.clone(),
            parts: vec![(e.holding, INK)],
        })
        .collect();
    let rows: String = stats
        .editors
        .iter()
        .map(|e| {
            format!(
                "<tr data-editor=\"{name}\"><td>{name}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
                e.holding,
                e.decisions,
                name = escape(&e.name),
            )
        })
        .collect();
    format!(
        "<h2>{heading}</h2><div class=\"chart-row\">{chart}\
         <table id=\"editors-table\"><thead><tr><th>{editor}</th><th>{holding}</th><th>{decisions}</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>",
        heading = lang.stats(StatsText::Editors),
        chart = chart::bars("editors-chart", lang.stats(StatsText::EditorsChart), &bars),
        editor = lang.stats(StatsText::Editor),
        holding = lang.stats(StatsText::Holding),
        decisions = lang.stats(StatsText::Decisions),
    )
}
