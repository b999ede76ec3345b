//! `--plot FILE.svg|png`: the latency percentile curve of each test (x from 0%
//! to 99.999% on the usual log scale of 1/(1-p)) beside its throughput over
//! time, under a title naming the server, the settings, the date and the
//! redwire version, with one legend for both charts below them. PNG text is
//! drawn with a bundled font, so no system fonts are needed.

use super::runner::TestResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSansMono.ttf");
const SIZE: (u32, u32) = (1280, 580);
/// Heights of the title block and of the legend strip, in pixels.
const HEADER: u32 = 56;
const LEGEND: u32 = 36;

/// Colours that read well on white (d3's category10 and a few darker ones,
/// no pale yellow), one per test in order: every test can have its own.
const COLORS: [RGBColor; 13] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(64, 64, 64),
    RGBColor(23, 150, 170),
    RGBColor(150, 150, 20),
    RGBColor(0, 0, 128),
    RGBColor(128, 0, 0),
    RGBColor(0, 110, 90),
];

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// The two lines above the charts.
pub struct Title {
    /// What was measured: server, date, version.
    pub main: String,
    /// How: connections, pipeline, value size, rate.
    pub settings: String,
}

/// Writes the plot; the format follows the file's extension.
pub fn draw(path: &Path, title: &Title, results: &[TestResult]) -> Result<(), String> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the bundled font cannot be read".to_string())?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("svg") => draw_on(
            SVGBackend::new(path, SIZE).into_drawing_area(),
            title,
            results,
        ),
        Some("png") => draw_on(
            BitMapBackend::new(path, SIZE).into_drawing_area(),
            title,
            results,
        ),
        _ => Err(format!(
            "cannot plot to {}: the file name must end in .svg or .png",
            path.display()
        )),
    }
}

/// The label of x, where x is -log10(1 - p): 0 at 0%, 1 at 90%, 2 at 99%.
fn label(x: &f64) -> String {
    let pct = 100.0 * (1.0 - 10f64.powf(-*x));
    let decimals = (*x - 2.0).ceil().max(0.0) as usize;
    format!("{pct:.decimals$}%")
}

/// `n` with `decimals` decimals and commas between thousands: `12,345.5`.
pub fn thousands(n: f64, decimals: usize) -> String {
    let text = format!("{:.decimals$}", n.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if n < 0.0 && n.abs() >= 0.5 * 10f64.powi(-(decimals as i32)) {
        out.insert(0, '-');
    }
    out
}

/// Points of the percentile curve, as far as the sample count says anything.
/// It starts at the fastest request, not at 0, so the curve does not rise
/// from the axis at 0%.
fn curve(r: &TestResult) -> Vec<(f64, f64)> {
    let h = &r.latency;
    let ms = |us: u64| us as f64 / 1000.0;
    let x_max = (h.len().max(1) as f64).log10().min(5.0);
    let mut points: Vec<(f64, f64)> = vec![(0.0, ms(h.min()))];
    points.extend(
        (1..)
            .map(|i| i as f64 * 0.05)
            .take_while(|x| *x <= x_max)
            .map(|x| (x, ms(h.value_at_quantile(1.0 - 10f64.powf(-x))))),
    );
    points.push((x_max, ms(h.max())));
    points
}

fn draw_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &Title,
    results: &[TestResult],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (header, rest) = root.split_vertically(HEADER);
    let (body, legend) = rest.split_vertically(SIZE.1 - HEADER - LEGEND);
    let centred = |size| {
        TextStyle::from(("sans-serif", size).into_font()).pos(
            plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            ),
        )
    };
    let mid = SIZE.0 as i32 / 2;
    header
        .draw_text(&title.main, &centred(18), (mid, 8))
        .map_err(err)?;
    header
        .draw_text(
            &title.settings,
            &centred(14).color(&RGBColor(80, 80, 80)),
            (mid, 32),
        )
        .map_err(err)?;
    let (left, right) = body.split_horizontally(SIZE.0 / 2);

    let curves: Vec<Vec<(f64, f64)>> = results.iter().map(curve).collect();
    let x_max = curves
        .iter()
        .flat_map(|c| c.last().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let y_max = curves
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.001f64, f64::max);
    let mut chart = ChartBuilder::on(&left)
        .caption("Latency by percentile", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_labels(x_max.ceil() as usize + 1)
        .x_label_formatter(&label)
        .y_label_formatter(&|v| thousands(*v, if y_max < 10.0 { 2 } else { 0 }))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, points) in curves.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color(i).stroke_width(2),
            ))
            .map_err(err)?;
    }

    let t_max = results
        .iter()
        .flat_map(|r| r.timeline.last().map(|p| p.0))
        .fold(0.1f64, f64::max);
    let ops_max = results
        .iter()
        .flat_map(|r| r.timeline.iter().map(|p| p.1))
        .fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(&right)
        .caption("Throughput over time", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..t_max, 0f64..ops_max * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the test started")
        .y_desc("requests/s")
        .x_label_formatter(&|v| thousands(*v, if t_max < 10.0 { 1 } else { 0 }))
        .y_label_formatter(&|v| thousands(*v, 0))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, r) in results.iter().enumerate() {
        // Markers too: a short test has a single sample, which a line cannot show.
        chart
            .draw_series(
                r.timeline
                    .iter()
                    .map(|p| Circle::new(*p, 3, color(i).filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                r.timeline.iter().copied(),
                color(i).stroke_width(2),
            ))
            .map_err(err)?;
    }

    // One legend for both charts, in its own strip below them.
    let names: Vec<String> = results.iter().map(|r| r.test.to_string()).collect();
    let slot = (120).min((SIZE.0 as i32 - 40) / names.len().max(1) as i32);
    let start = mid - (slot * names.len() as i32) / 2;
    for (i, name) in names.iter().enumerate() {
        let x = start + slot * i as i32;
        legend
            .draw(&PathElement::new(
                vec![(x, 14), (x + 28, 14)],
                color(i).stroke_width(3),
            ))
            .map_err(err)?;
        legend
            .draw_text(
                name,
                &("sans-serif", 15).into_text_style(&legend),
                (x + 36, 6),
            )
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(label(&0.0), "0%");
        assert_eq!(label(&1.0), "90%");
        assert_eq!(label(&2.0), "99%");
        assert_eq!(label(&3.0), "99.9%");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0.0, 0), "0");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(1000.0, 0), "1,000");
        assert_eq!(thousands(1234567.0, 0), "1,234,567");
        assert_eq!(thousands(12345.25, 2), "12,345.25");
        assert_eq!(thousands(-4321.0, 0), "-4,321");
        assert_eq!(thousands(0.5, 1), "0.5");
    }
}
