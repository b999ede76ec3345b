//! `--client-metrics`: the client's own metrics (redwire's `metrics`
//! feature, see `redwire::telemetry`), recorded during the bench by the
//! Prometheus exporter and shown after the table, so that the bench's
//! figures and production's are the same figures.
//!
//! The recorder is installed before the first connection (a handle's
//! metrics are registered with the recorder there is when it first needs
//! them). Histograms are kept as the exporter's summaries (bounded memory
//! whatever the length of the run), folded every second. What is shown is
//! every series of redwire's metrics but the descriptions, with the
//! quantiles cut to p50 and p99; the connections of a bench share their
//! series (same server, same attributes), so each line is the sum over them.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::time::Duration;

/// The recorder, installed.
pub struct ClientMetrics {
    handle: PrometheusHandle,
}

impl ClientMetrics {
    /// Installs the recorder for this process and starts folding its
    /// histograms every second.
    pub fn install() -> Result<ClientMetrics, String> {
        let handle = PrometheusBuilder::new()
            .set_quantiles(&[0.5, 0.99])
            .map_err(|e| format!("cannot configure the metrics recorder: {e}"))?
            .install_recorder()
            .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("client-metrics".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(1));
                upkeep.run_upkeep();
            })
            .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
        Ok(ClientMetrics { handle })
    }

    /// The samples now, one `(series, value)` each.
    pub fn samples(&self) -> Vec<(String, String)> {
        self.handle.run_upkeep();
        samples(&self.handle.render())
    }

    /// The samples as a block of text to print after the table.
    pub fn table(&self) -> String {
        table(&self.samples())
    }

    /// The samples as a JSON object (series → number).
    pub fn json(&self) -> serde_json::Value {
        let map = self
            .samples()
            .into_iter()
            .map(|(series, value)| {
                let number = value
                    .parse::<f64>()
                    .ok()
                    .map_or(serde_json::Value::String(value), serde_json::Value::from);
                (series, number)
            })
            .collect::<serde_json::Map<_, _>>();
        serde_json::Value::Object(map)
    }
}

/// The samples of redwire's metrics in a Prometheus exposition: no
/// comments, no empty counters, quantiles other than p50 and p99 left out.
fn samples(exposition: &str) -> Vec<(String, String)> {
    exposition
        .lines()
        .filter(|line| line.starts_with("db_client_") || line.starts_with("redwire_"))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.to_owned()))
        })
        .filter(|(series, value)| {
            let quantile = series.contains("quantile=");
            let kept_quantile =
                series.contains("quantile=\"0.5\"") || series.contains("quantile=\"0.99\"");
            let empty_counter = value == "0" && !series.contains("count{") && !quantile;
            (!quantile || kept_quantile) && !empty_counter
        })
        .collect()
}

/// One line per sample, the series shortened: `db.system.name` and the
/// server's address are the same on every line of a bench.
fn table(samples: &[(String, String)]) -> String {
    let shown: Vec<(String, &str)> = samples
        .iter()
        .map(|(series, value)| (shorten(series), value.as_str()))
        .collect();
    let width = shown.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    let mut out = String::from("\nclient metrics (redwire's own, summed over the connections):\n");
    for (series, value) in shown {
        out.push_str(&format!("  {series:<width$}  {value}\n"));
    }
    out
}

/// Leaves out the attributes every line has.
fn shorten(series: &str) -> String {
    let Some((name, rest)) = series.split_once('{') else {
        return series.to_owned();
    };
    let labels: Vec<&str> = rest
        .trim_end_matches('}')
        .split(',')
        .filter(|l| {
            !l.starts_with("db_system_name=")
                && !l.starts_with("server_address=")
                && !l.starts_with("server_port=")
        })
        .collect();
    if labels.is_empty() || labels == [""] {
        name.to_owned()
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = "\
# HELP db_client_operation_duration Duration of database client operations.
# TYPE db_client_operation_duration summary
db_client_operation_duration{db_system_name=\"redis\",server_address=\"127.0.0.1\",server_port=\"6379\",db_operation_name=\"GET\",quantile=\"0\"} 0.0001
db_client_operation_duration{db_system_name=\"redis\",server_address=\"127.0.0.1\",server_port=\"6379\",db_operation_name=\"GET\",quantile=\"0.5\"} 0.0002
db_client_operation_duration{db_system_name=\"redis\",server_address=\"127.0.0.1\",server_port=\"6379\",db_operation_name=\"GET\",quantile=\"0.99\"} 0.0009
db_client_operation_duration_count{db_system_name=\"redis\",server_address=\"127.0.0.1\",server_port=\"6379\",db_operation_name=\"GET\"} 1000
redwire_connection_discarded_replies{db_system_name=\"redis\",server_address=\"127.0.0.1\",server_port=\"6379\",db_client_connection_pool_name=\"client 127.0.0.1:6379\"} 0
redwire_connection_reconnects{db_system_name=\"redis\",server_address=\"127.0.0.1\",server_port=\"6379\",db_client_connection_pool_name=\"client 127.0.0.1:6379\",error_type=\"connection_lost\"} 2
other_metric 5
";

    #[test]
    fn only_redwires_samples_with_p50_and_p99_and_no_empty_counters() {
        let kept: Vec<String> = samples(EXPOSITION).into_iter().map(|(s, _)| s).collect();
        assert_eq!(kept.len(), 4, "{kept:?}");
        assert!(kept[0].contains("quantile=\"0.5\""));
        assert!(kept[1].contains("quantile=\"0.99\""));
        assert!(kept[2].starts_with("db_client_operation_duration_count"));
        assert!(kept[3].starts_with("redwire_connection_reconnects"));
    }

    #[test]
    fn the_table_leaves_out_the_attributes_every_line_has() {
        let text = table(&samples(EXPOSITION));
        assert!(text
            .contains("db_client_operation_duration{db_operation_name=\"GET\",quantile=\"0.5\"}"));
        assert!(
            text.contains("error_type=\"connection_lost\"}  2"),
            "{text}"
        );
        assert!(!text.contains("server_port"), "{text}");
    }
}
