//! Interleaved rounds: each variant measured once per round, the order rotating every round.

/// The order of `variants` variants in round `round` (0-based): round 0 runs 0, 1, 2, ...,
/// round 1 runs 1, 2, ..., 0, and so on.
pub fn rotation(round: usize, variants: usize) -> impl Iterator<Item = usize> {
    (0..variants).map(move |i| (round + i) % variants)
}

/// Runs `rounds` rounds of `variants` variants in [`rotation`] order, calling
/// `measure(round, variant)`; returns each variant's samples in round order.
pub fn interleaved<T>(
    rounds: usize,
    variants: usize,
    mut measure: impl FnMut(usize, usize) -> T,
) -> Vec<Vec<T>> {
    let infallible = try_interleaved(rounds, variants, |round, variant| {
        Ok::<T, std::convert::Infallible>(measure(round, variant))
    });
    match infallible {
        Ok(samples) => samples,
        Err(never) => match never {},
    }
}

/// [`interleaved`] for a measurement that can fail: stops at the first error.
pub fn try_interleaved<T, E>(
    rounds: usize,
    variants: usize,
    mut measure: impl FnMut(usize, usize) -> Result<T, E>,
) -> Result<Vec<Vec<T>>, E> {
    let mut samples: Vec<Vec<T>> = (0..variants).map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for variant in rotation(round, variants) {
            samples[variant].push(measure(round, variant)?);
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_rotates_and_samples_stay_per_variant() {
        assert_eq!(rotation(1, 3).collect::<Vec<_>>(), vec![1, 2, 0]);
        let mut order = Vec::new();
        let samples = interleaved(3, 2, |round, variant| {
            order.push((round, variant));
            round * 10 + variant
        });
        assert_eq!(order, [(0, 0), (0, 1), (1, 1), (1, 0), (2, 0), (2, 1)]);
        assert_eq!(samples, vec![vec![0, 10, 20], vec![1, 11, 21]]);
        let failed = try_interleaved(
            3,
            2,
            |round, _| if round == 1 { Err(round) } else { Ok(()) },
        );
        assert_eq!(failed, Err(1));
    }
}
