//! Work cut into numbered units, run on every core, each unit's result handed back on the
//! calling thread in unit order: the splitting shared by the parallel filter
//! ([`crate::filter::LineFilter::scan_parallel`]) and the parallel search (pages of matches,
//! counts and replace-all in [`crate::search`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use crate::{Control, Error, Result};

/// The most worker threads a parallel scan uses.
pub const MAX_THREADS: usize = 16;
/// Units per worker a worker may start past the unit the caller waits for.
pub const AHEAD: usize = 4;

/// Runs `work(i, control)` for every unit `i` in `0..units` on up to `threads` worker threads
/// (at most [`MAX_THREADS`]) and hands each result to `take(i, result)` on the calling thread,
/// in order of `i`; `take` returns false to stop.
///
/// Workers take the next unit from a shared counter, nearest first, but never more than
/// [`AHEAD`] units per worker past the unit the caller waits for: memory is bounded by the
/// results of that many units (a slow unit does not let the others run through the rest of
/// the input), and when `take` stops early little work past that point has been done. The
/// `control` given to `work` is the workers' own: it is cancelled when the caller's `control`
/// is (checked every 10 ms), when a unit fails and when `take` stops. The first error in unit
/// order is returned (a unit that panicked reads as [`Error::Cancelled`]). Progress is left to
/// `take`, which knows what a unit is worth.
pub(crate) fn in_order<T: Send>(
    units: usize,
    threads: usize,
    control: &Control,
    work: impl Fn(usize, &Control) -> Result<T> + Sync,
    mut take: impl FnMut(usize, T) -> Result<bool>,
) -> Result<()> {
    let workers_n = threads.clamp(1, MAX_THREADS).min(units);
    if workers_n == 0 {
        return Ok(());
    }
    let ahead = AHEAD * workers_n;
    let next = AtomicUsize::new(0);
    // Units handed to `take` so far.
    let handed = AtomicUsize::new(0);
    let inner = Control::new();
    let (tx, rx) = mpsc::channel::<(usize, Result<T>)>();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..workers_n)
            .map(|_| {
                let tx = tx.clone();
                let (next, handed, inner, work) = (&next, &handed, &inner, &work);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= units || inner.is_cancelled() {
                        return;
                    }
                    while i >= handed.load(Ordering::Acquire) + ahead {
                        if inner.is_cancelled() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    let r = work(i, inner);
                    let failed = r.is_err();
                    if tx.send((i, r)).is_err() || failed {
                        return;
                    }
                })
            })
            .collect();
        drop(tx);
        let outcome = hand_out(&rx, units, &handed, control, &mut take);
        // Stops the workers if the run ended early (cancelled, failed, `take` said stop).
        inner.cancel();
        for w in workers {
            // A worker that panicked sent nothing for its unit: `hand_out` has failed.
            let _ = w.join();
        }
        outcome
    })
}

/// The receiving end of [`in_order`]: results in unit order to `take`, counted in `handed`.
fn hand_out<T>(
    rx: &mpsc::Receiver<(usize, Result<T>)>,
    units: usize,
    handed: &AtomicUsize,
    control: &Control,
    take: &mut impl FnMut(usize, T) -> Result<bool>,
) -> Result<()> {
    let mut waiting = BTreeMap::new();
    let mut want = 0;
    while want < units {
        control.check()?;
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok((i, r)) => {
                waiting.insert(i, r);
            }
            Err(RecvTimeoutError::Timeout) => continue,
            // Every worker has returned and unit `want` never came: one panicked.
            Err(RecvTimeoutError::Disconnected) if !waiting.contains_key(&want) => {
                return Err(Error::Cancelled);
            }
            Err(RecvTimeoutError::Disconnected) => {}
        }
        while let Some(r) = waiting.remove(&want) {
            control.check()?;
            want += 1;
            handed.store(want, Ordering::Release);
            if !take(want - 1, r?)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_results_in_order_and_stops_when_asked() {
        for threads in [1, 2, 3, 8] {
            let mut got = Vec::new();
            in_order(
                50,
                threads,
                &Control::new(),
                |i, _| {
                    // Later units finish first.
                    std::thread::sleep(Duration::from_micros(((50 - i) * 20) as u64));
                    Ok(i * 10)
                },
                |i, v| {
                    got.push((i, v));
                    Ok(i < 30)
                },
            )
            .unwrap();
            let want: Vec<_> = (0..=30).map(|i| (i, i * 10)).collect();
            assert_eq!(got, want, "{threads} threads");
        }
    }

    #[test]
    fn the_first_error_in_order_wins_and_cancellation_stops() {
        let r = in_order(
            20,
            3,
            &Control::new(),
            |i, _| if i == 7 { Err(Error::Cancelled) } else { Ok(i) },
            |i, _| {
                assert!(i < 7);
                Ok(true)
            },
        );
        assert!(matches!(r, Err(Error::Cancelled)));
        let c = Control::new();
        c.cancel();
        let r = in_order(20, 2, &c, |i, _| Ok(i), |_, _| Ok(true));
        assert!(matches!(r, Err(Error::Cancelled)));
    }
}
