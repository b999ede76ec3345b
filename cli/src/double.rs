//! How a RESP3 double reads, as redis-cli shows it: the same in the human,
//! raw and JSON forms.

/// A double as redis-cli shows it (`inf`, `-inf`, or Rust's shortest form).
pub fn double(d: f64) -> String {
    if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        d.to_string()
    }
}
