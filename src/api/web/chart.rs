//! Bar charts as inline SVG (pure): no script, no external asset, colours
//! as presentation attributes so the strict CSP needs no inline style.
//! Each chart has a table with the same figures beside it.

use crate::export::escape;

/// One bar: its label under the axis, and its stacked parts (value,
/// colour), bottom first.
pub struct Bar {
    pub label: String,
    pub parts: Vec<(u64, &'static str)>,
}

pub const INK: &str = "#8a1c1c";
pub const PALE: &str = "#d9a7a7";

const WIDTH: u32 = 640;
const HEIGHT: u32 = 220;
const BOTTOM: u32 = 28;
const TOP: u32 = 18;

/// Vertical stacked bars with the total above each; `title` is the
/// chart's accessible name.
pub fn bars(id: &str, title: &str, bars: &[Bar]) -> String {
    let max = bars
        .iter()
        .map(|b| b.parts.iter().map(|p| p.0).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / (bars.len().max(1) as u32);
    let bar_width = (slot * 3 / 5).clamp(4, 56);
    let plot = HEIGHT - BOTTOM - TOP;
    let mut svg = format!(
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" aria-label=\"{title}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{title}</title>\
         <line x1=\"0\" y1=\"{axis}\" x2=\"{WIDTH}\" y2=\"{axis}\" stroke=\"#d1d9e0\"/>",
        id = escape(id),
        title = escape(title),
        axis = HEIGHT - BOTTOM,
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = i as u32 * slot + (slot - bar_width) / 2;
        let mut y = HEIGHT - BOTTOM;
        let total: u64 = bar.parts.iter().map(|p| p.0).sum();
        for (value, colour) in &bar.parts {
            let h = (*value as f64 / max as f64 * f64::from(plot)).round() as u32;
            if h > 0 {
                y -= h;
                svg.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{bar_width}\" height=\"{h}\" fill=\"{colour}\"/>"
                ));
            }
        }
        let centre = x + bar_width / 2;
        svg.push_str(&format!(
            "<text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1f2328\">{total}</text>\
             <text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#59636e\">{}</text>",
            y.saturating_sub(4),
            HEIGHT - 10,
            escape(&bar.label),
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_their_labels() {
        let chart = bars(
            "intake",
            "來稿",
            &[
                Bar {
                    label: "<11-30>".into(),
                    parts: vec![(10, INK), (5, PALE)],
                },
                Bar {
                    label: "12-07".into(),
                    parts: vec![(0, INK)],
                },
            ],
        );
        assert!(chart.starts_with("<svg id=\"intake\""), "{chart}");
        assert!(chart.contains("&lt;11-30&gt;") && !chart.contains("<11-30>"));
        // The tallest bar fills the plot: 220 - 28 - 18 = 174 pixels.
        assert!(
            chart.contains("height=\"116\"") && chart.contains("height=\"58\""),
            "{chart}"
        );
        assert!(chart.contains(">15</text>") && chart.contains(">0</text>"));
        assert!(!chart.contains("style="), "no inline style under the CSP");
    }
}
