//! Medians and percentiles of repeated measurements.

/// Measurements of one quantity, sorted once.
#[derive(Clone, Debug)]
pub struct Samples {
    sorted: Vec<f64>,
}

impl Samples {
    /// Takes the measurements in any order.
    ///
    /// # Panics
    ///
    /// If `values` is empty: a statistic of nothing is a bug in the benchmark.
    pub fn new(mut values: Vec<f64>) -> Self {
        assert!(!values.is_empty(), "no samples were taken");
        values.sort_by(f64::total_cmp);
        Self { sorted: values }
    }

    /// The middle value (the mean of the two middle ones for an even count).
    pub fn median(&self) -> f64 {
        let n = self.sorted.len();
        if n % 2 == 1 { self.sorted[n / 2] } else { (self.sorted[n / 2 - 1] + self.sorted[n / 2]) / 2.0 }
    }

    /// The nearest-rank `p`-th percentile, `p` in `0.0..=100.0`.
    pub fn percentile(&self, p: f64) -> f64 {
        let rank = (p / 100.0 * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    /// The smallest value.
    pub fn min(&self) -> f64 {
        self.sorted[0]
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.sorted[self.sorted.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::Samples;

    #[test]
    fn median_and_percentiles() {
        let odd = Samples::new(vec![5.0, 1.0, 3.0]);
        assert_eq!((odd.median(), odd.min(), odd.max()), (3.0, 1.0, 5.0));
        assert_eq!(Samples::new(vec![4.0, 1.0, 3.0, 2.0]).median(), 2.5);
        let hundred = Samples::new((1..=100).map(f64::from).collect());
        assert_eq!(
            (hundred.percentile(50.0), hundred.percentile(99.0), hundred.percentile(100.0)),
            (50.0, 99.0, 100.0)
        );
        assert_eq!(hundred.percentile(0.0), 1.0);
    }
}
