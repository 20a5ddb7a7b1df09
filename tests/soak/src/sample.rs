//! The server's resident memory and open file descriptors, from /proc.

use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub at: Duration,
    pub rss_kb: u64,
    pub fds: usize,
}

pub fn take(pid: u32, at: Duration) -> Sample {
    let rss_kb = crate::scale_procs::status_kib(pid, "VmRSS");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    Sample { at, rss_kb, fds }
}

/// Whether `values` grew after the warm-up: the mean of its last third
/// against the mean of its first third, beyond `tolerance` (a fraction)
/// plus `slack` (absolute).
pub fn grew(values: &[f64], tolerance: f64, slack: f64) -> Option<(f64, f64)> {
    let third = values.len() / 3;
    if third == 0 {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (first, last) = (mean(&values[..third]), mean(&values[values.len() - third..]));
    (last > first * (1.0 + tolerance) + slack).then_some((first, last))
}
