//! `--plot FILE.svg|png`: the latency percentile curve of each test (x from 0%
//! to 99.999% on the usual log scale of 1/(1-p)) beside its throughput over
//! time. PNG text is drawn with a bundled font, so no system fonts are needed.

use super::runner::TestResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSansMono.ttf");
const SIZE: (u32, u32) = (1280, 520);

/// Writes the plot; the format follows the file's extension.
pub fn draw(path: &Path, title: &str, results: &[TestResult]) -> Result<(), String> {
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

/// The short line in the legend box for series `i`, in its colour.
fn legend_mark(i: usize, x: i32, y: i32) -> PathElement<(i32, i32)> {
    PathElement::new(
        vec![(x, y), (x + 16, y)],
        Palette99::pick(i).stroke_width(2),
    )
}

/// The label of x, where x is -log10(1 - p): 0 at 0%, 1 at 90%, 2 at 99%.
fn label(x: &f64) -> String {
    let pct = 100.0 * (1.0 - 10f64.powf(-*x));
    let decimals = (*x - 2.0).ceil().max(0.0) as usize;
    format!("{pct:.decimals$}%")
}

/// Points of the percentile curve, as far as the sample count says anything.
fn curve(r: &TestResult) -> Vec<(f64, f64)> {
    let h = &r.latency;
    let x_max = (h.len().max(1) as f64).log10().min(5.0);
    let mut points: Vec<(f64, f64)> = (0..)
        .map(|i| i as f64 * 0.05)
        .take_while(|x| *x <= x_max)
        .map(|x| {
            let q = 1.0 - 10f64.powf(-x);
            (x, h.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect();
    points.push((x_max, h.max() as f64 / 1000.0));
    points
}

fn draw_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    results: &[TestResult],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 18)).map_err(err)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);

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
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_labels(x_max.ceil() as usize + 1)
        .x_label_formatter(&label)
        .draw()
        .map_err(err)?;
    for (i, (r, points)) in results.iter().zip(&curves).enumerate() {
        let color = Palette99::pick(i).stroke_width(2);
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color))
            .map_err(err)?
            .label(r.test.to_string())
            .legend(move |(x, y)| legend_mark(i, x, y));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;

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
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..t_max, 0f64..ops_max * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the test started")
        .y_desc("requests/s")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(err)?;
    for (i, r) in results.iter().enumerate() {
        let color = Palette99::pick(i).stroke_width(2);
        // Markers too: a short test has a single sample, which a line cannot show.
        chart
            .draw_series(
                r.timeline
                    .iter()
                    .map(|p| Circle::new(*p, 3, Palette99::pick(i).filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(r.timeline.iter().copied(), color))
            .map_err(err)?
            .label(r.test.to_string())
            .legend(move |(x, y)| legend_mark(i, x, y));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
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
}
